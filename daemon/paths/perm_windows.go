package paths

// tighten is a no-op on Windows: %LOCALAPPDATA% is already private to the
// user through its ACL, and Go's file modes do not map onto ACLs.
func tighten(dir string) error { return nil }

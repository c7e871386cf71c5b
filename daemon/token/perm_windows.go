package token

// private trusts the per-user ACL of %LOCALAPPDATA% on Windows, where Go's
// mode bits say nothing about who can read a file.
func private(path string) bool { return true }

package paths

// The data dir checks are no-ops on Windows: %LOCALAPPDATA% is already
// private to the user through its ACL, and Go's file modes do not map onto
// ACLs, so there is nothing the Unix checks could read.

func checkDataDir(dir string) error { return nil }

func checkLinksOnTheWay(dataDir string) error { return nil }

func checkBeforeCreate(dataDir string) error { return nil }

func checkOwnDir(dir, dataDir string) error { return nil }

func private(dir string) bool { return true }

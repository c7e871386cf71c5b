package store

// dsnName is the plain path on Windows, where a database file SQLite has
// open cannot be moved or deleted (it opens without FILE_SHARE_DELETE), so
// a connection opened later by name always finds the store's own file.
func dsnName(path string) string { return path + "?" }

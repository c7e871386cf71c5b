//go:build !darwin

package store

// fullfsyncPragmas: elsewhere fsync(2) (FlushFileBuffers on Windows)
// already reaches stable storage and SQLite ignores fullfsync.
var fullfsyncPragmas []string

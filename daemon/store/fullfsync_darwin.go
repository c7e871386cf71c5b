package store

// fullfsyncPragmas: on macOS fsync(2) only reaches the drive's cache;
// F_FULLFSYNC is what makes a commit survive power loss there.
var fullfsyncPragmas = []string{"_pragma=fullfsync(ON)", "_pragma=checkpoint_fullfsync(ON)"}

//go:build !windows

package main

import (
	"os"
	"syscall"
)

// madeByOtherUser: fi's file belongs to neither this user nor root, so
// another user made it (a link or a pipe planted where an export is
// written, in /tmp, to read what goes into it or to aim it elsewhere).
func madeByOtherUser(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid != uint32(os.Getuid()) && st.Uid != 0
}

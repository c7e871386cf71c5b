//go:build !windows

package proctest

import "syscall"

// ownGroup gives a test's process its own process group, so a signal aimed
// at it never reaches the test runner.
func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

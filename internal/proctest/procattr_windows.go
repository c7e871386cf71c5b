package proctest

import "syscall"

func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

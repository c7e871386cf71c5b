package proc

import (
	"os/user"
	"strings"
)

// OwnedByMe reports whether the process belongs to the user running this
// code, the only processes Cairn ever signals. Windows has no numeric UID in
// gopsutil, so the DOMAIN\user names are compared.
func (p *Process) OwnedByMe() bool {
	if p == nil || p.User == "" {
		return false
	}
	me, err := user.Current()
	return err == nil && strings.EqualFold(me.Username, p.User)
}

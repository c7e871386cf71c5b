//go:build !windows

package proc

import "os"

// OwnedByMe reports whether the process belongs to the user running this
// code, the only processes Cairn ever signals.
func (p *Process) OwnedByMe() bool {
	return p != nil && p.UID >= 0 && p.UID == os.Getuid()
}

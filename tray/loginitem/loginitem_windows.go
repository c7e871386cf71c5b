package loginitem

import "github.com/cairnlabs/cairn/internal/runkey"

// newBackend: a value of HKCU\Software\Microsoft\Windows\CurrentVersion\Run.
func newBackend() (backend, error) {
	reg, err := runkey.Default()
	if err != nil {
		return nil, err
	}
	return runEntry{runkey.Entry{Name: RunValueName, Reg: reg}}, nil
}

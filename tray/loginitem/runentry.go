package loginitem

import (
	"path/filepath"
	"strings"

	"github.com/cairnlabs/cairn/internal/runkey"
)

// RunValueName is the tray's value under HKCU\...\CurrentVersion\Run, the
// name Task Manager's Startup tab shows.
const RunValueName = "Cairn"

// runEntry keeps the login item as a value of the HKCU Run key.
type runEntry struct{ e runkey.Entry }

func (r runEntry) read() (State, error) {
	s := State{Location: `HKCU\` + runkey.RunKey + `\` + r.e.Name}
	st, err := r.e.Read()
	if err != nil || !st.Present {
		return s, err
	}
	if len(st.Args) > 0 {
		s.Exe = st.Args[0]
	}
	s.Enabled = st.Enabled()
	if st.Disabled {
		s.Note = "switched off in Task Manager's Startup tab"
	}
	return s, nil
}

func (r runEntry) write(exe string) error {
	cmd, err := runkey.CommandLine(exe)
	if err != nil {
		return err
	}
	_, err = r.e.Write(cmd)
	return err
}

func (r runEntry) remove() error { return r.e.Remove() }

// samePath compares Windows paths: case-insensitive, either separator.
func (r runEntry) samePath(a, b string) bool {
	norm := func(p string) string { return filepath.Clean(strings.ReplaceAll(p, "/", `\`)) }
	return a != "" && strings.EqualFold(norm(a), norm(b))
}

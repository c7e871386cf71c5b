package loginitem

import (
	"testing"

	"github.com/cairnlabs/cairn/internal/runkey"
	"github.com/cairnlabs/cairn/internal/runkey/runkeytest"
)

// The Windows login item, through the same logic as on Windows, with the
// registry faked.
func TestRunEntryLifecycle(t *testing.T) {
	reg := runkeytest.NewFake()
	r := runEntry{runkey.Entry{Name: RunValueName, Reg: reg}}
	exe := `C:\Users\Zoë\AppData\Local\Programs\Cairn\cairn-tray.exe`

	if s, err := status(r, exe); err != nil || s.Enabled {
		t.Fatalf("fresh: %+v %v", s, err)
	}
	if err := enable(r, exe); err != nil {
		t.Fatal(err)
	}
	cmd, _, _ := reg.String(runkey.RunKey, RunValueName)
	if cmd != `"`+exe+`"` {
		t.Fatalf("Run value = %s, want the quoted path", cmd)
	}
	if s, _ := status(r, exe); !s.Enabled || !s.Current || s.Exe != exe {
		t.Fatalf("enabled: %+v", s)
	}
	// Same path in another case and with forward slashes: still current,
	// and enabling again writes nothing.
	same := `c:/users/zoë/appdata/local/programs/cairn/CAIRN-TRAY.EXE`
	if s, _ := status(r, same); !s.Current {
		t.Errorf("case/separator variant not current: %+v", s)
	}
	if err := enable(r, exe); err != nil || reg.Writes != 1 {
		t.Fatalf("enable twice: %v, writes %d", err, reg.Writes)
	}

	reg.SetBinary(runkey.ApprovedKey, RunValueName, []byte{3, 0, 0, 0})
	if s, _ := status(r, exe); s.Enabled || s.Note == "" {
		t.Fatalf("switched off in Task Manager: %+v", s)
	}
	if err := enable(r, exe); err != nil {
		t.Fatal(err)
	}
	if s, _ := status(r, exe); !s.Enabled {
		t.Fatalf("re-enabled: %+v", s)
	}

	moved := `D:\Portable Apps\Cairn\cairn-tray.exe`
	if s, _ := status(r, moved); s.Current {
		t.Fatalf("moved binary reported current: %+v", s)
	}
	if err := enable(r, moved); err != nil {
		t.Fatal(err)
	}
	if s, _ := status(r, moved); !s.Current || s.Exe != moved {
		t.Fatalf("moved: %+v", s)
	}
	if err := r.remove(); err != nil {
		t.Fatal(err)
	}
	if s, _ := status(r, moved); s.Enabled || s.Exe != "" {
		t.Fatalf("removed: %+v", s)
	}
	if err := r.remove(); err != nil {
		t.Fatal(err)
	}
}

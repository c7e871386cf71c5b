package runkey_test

import (
	"slices"
	"testing"

	"github.com/cairnlabs/cairn/internal/runkey"
	"github.com/cairnlabs/cairn/internal/runkey/runkeytest"
)

func TestCommandLineRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		{`C:\Program Files\Cairn\cairn.exe`, "serve", "--foreground"},
		{`C:\Users\Zoë Ångström\AppData\Local\Cairn\cairn.exe`},
		{`C:\odd 'quote' & 100%\cairn.exe`, "--port", "7070"},
		{`C:\x\cairn.exe`, "", "a b", `back\slash`, `trailing\`, `trailing space\ `, `q"uote`, `\"`, `\\"x`},
	} {
		line, err := runkey.CommandLine(args...)
		if err != nil {
			t.Fatalf("CommandLine(%q): %v", args, err)
		}
		if got := runkey.Split(line); !slices.Equal(got, args) {
			t.Errorf("Split(CommandLine(%q)) = %q via %s", args, got, line)
		}
	}
	if _, err := runkey.CommandLine(`C:\a"b\cairn.exe`); err == nil {
		t.Error("a quote in the program path was accepted")
	}
}

// Split follows CommandLineToArgvW, checked against its documented examples.
func TestSplitDocumentedExamples(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`p "abc" d e`, []string{"p", "abc", "d", "e"}},
		{`p a\\\b d"e f"g h`, []string{"p", `a\\\b`, "de fg", "h"}},
		{`p a\\\"b c d`, []string{"p", `a\"b`, "c", "d"}},
		{`p a\\\\"b c" d e`, []string{"p", `a\\b c`, "d", "e"}},
		{`"C:\Program Files\x.exe" --headless`, []string{`C:\Program Files\x.exe`, "--headless"}},
		{`C:\x.exe`, []string{`C:\x.exe`}},
		{`  `, nil},
	} {
		if got := runkey.Split(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Split(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEntryWriteReadRemove(t *testing.T) {
	reg := runkeytest.NewFake()
	e := runkey.Entry{Name: "Cairn", Reg: reg}

	s, err := e.Read()
	if err != nil || s.Present || s.Enabled() {
		t.Fatalf("empty registry: %+v, %v", s, err)
	}
	cmd := `"C:\Program Files\Cairn\cairn-tray.exe"`
	if changed, err := e.Write(cmd); err != nil || !changed {
		t.Fatalf("first Write: changed=%v err=%v", changed, err)
	}
	if changed, err := e.Write(cmd); err != nil || changed || reg.Writes != 1 {
		t.Fatalf("second Write must be a no-op: changed=%v err=%v writes=%d", changed, err, reg.Writes)
	}
	s, _ = e.Read()
	if !s.Enabled() || s.Command != cmd || !slices.Equal(s.Args, []string{`C:\Program Files\Cairn\cairn-tray.exe`}) {
		t.Fatalf("after Write: %+v", s)
	}

	// The user switches it off in Task Manager: the Run value stays.
	reg.SetBinary(runkey.ApprovedKey, "Cairn", []byte{3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	if s, _ = e.Read(); !s.Present || !s.Disabled || s.Enabled() {
		t.Fatalf("switched off in Task Manager: %+v", s)
	}
	// Enabled in Task Manager again (02): on.
	reg.SetBinary(runkey.ApprovedKey, "Cairn", []byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if s, _ = e.Read(); !s.Enabled() {
		t.Fatalf("switched on in Task Manager: %+v", s)
	}
	// Writing the same command while switched off turns it on.
	reg.SetBinary(runkey.ApprovedKey, "Cairn", []byte{3, 0, 0, 0})
	if changed, err := e.Write(cmd); err != nil || !changed {
		t.Fatalf("Write over a Task Manager switch: changed=%v err=%v", changed, err)
	}
	if s, _ = e.Read(); !s.Enabled() || reg.Writes != 1 {
		t.Fatalf("after re-enabling: %+v writes=%d", s, reg.Writes)
	}

	// A moved program: a new command replaces the old one.
	moved := `"D:\Apps\Cairn\cairn-tray.exe"`
	if changed, err := e.Write(moved); err != nil || !changed {
		t.Fatalf("Write of a moved path: changed=%v err=%v", changed, err)
	}
	if s, _ = e.Read(); s.Command != moved {
		t.Fatalf("moved: %+v", s)
	}

	if err := e.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := e.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if s, _ = e.Read(); s.Present {
		t.Fatalf("after Remove: %+v", s)
	}
	if _, err := e.Write("x\ny"); err == nil {
		t.Error("a command with a newline was accepted")
	}
}

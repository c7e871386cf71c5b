package loginitem

import (
	"os"
	"path/filepath"
	"testing"
)

// oddNames are folder names that a login item must carry intact: blanks,
// both quotes, the characters the Desktop Entry spec and shells treat
// specially, and non-ASCII.
var oddNames = []string{
	"plain",
	"with space",
	`double"quote`,
	"single'quote",
	`back\slash`,
	"dollar$HOME",
	"back`tick`",
	"100% sure %U",
	"semi;colon & pipe|<>~#*?()",
	"Zoë Ångström 日本語",
	" leading and trailing ",
	`mix "it's" \$ 50% ünïcode`,
}

// fakeExe creates an executable file named cairn-tray in a new folder
// called name and returns its absolute path.
func fakeExe(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "cairn-tray")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

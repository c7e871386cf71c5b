package instance

import (
	"path/filepath"
	"testing"
)

func TestSameDataDir(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		environ []string
		ours    string // our CAIRN_HOME
		ok      bool
	}{
		{"same CAIRN_HOME", []string{"HOME=/h", "CAIRN_HOME=" + dir}, dir, true},
		{"same dir, spelled differently", []string{"CAIRN_HOME=" + dir + "/./"}, dir, true},
		{"another data dir", []string{"CAIRN_HOME=" + filepath.Join(dir, "other")}, dir, false},
		{"both on the default", []string{"HOME=/h"}, "", true},
		{"it on the default, we on CAIRN_HOME", []string{"HOME=/h"}, dir, false},
		{"empty CAIRN_HOME is the default", []string{"CAIRN_HOME="}, "", true},
		{"the first entry wins, as Go's getenv", []string{"CAIRN_HOME=/elsewhere", "CAIRN_HOME=" + dir}, dir, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sameDataDir(tc.environ, dir, tc.ours)
			if (err == nil) != tc.ok {
				t.Errorf("sameDataDir(%q, %q, ours %q) = %v, want ok %v", tc.environ, dir, tc.ours, err, tc.ok)
			}
		})
	}
}

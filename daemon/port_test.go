package daemon

import (
	"strings"
	"testing"
)

func TestResolvePort(t *testing.T) {
	for _, tc := range []struct {
		flag    int
		env     string
		want    int
		wantErr string
	}{
		{0, "", DefaultPort, ""},
		{8080, "9090", 8080, ""},
		{0, "9090", 9090, ""},
		{70000, "", 0, "--port 70000 is out of range"},
		{-1, "", 0, "--port -1 is out of range"},
		{0, "http", 0, `CAIRN_PORT="http" is not a port`},
		{0, "0", 0, `CAIRN_PORT="0" is not a port`},
	} {
		t.Setenv("CAIRN_PORT", tc.env)
		got, err := ResolvePort(tc.flag)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ResolvePort(%d) with CAIRN_PORT=%q: %v, want an error with %q", tc.flag, tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ResolvePort(%d) with CAIRN_PORT=%q = %d, %v; want %d", tc.flag, tc.env, got, err, tc.want)
		}
	}
}

package proc

import "testing"

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"python3", "python3"},
		{"caf\u00e9 \u65e5\u672c \U0001F600", "caf\u00e9 \u65e5\u672c \U0001F600"},
		{"\x1b]0;PWNED\x07\x1b[2J", `\x1b]0;PWNED\x07\x1b[2J`},
		{"x\x1b]52;c;ZWNobw==\x07\x1b[1A", `x\x1b]52;c;ZWNobw==\x07\x1b[1A`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"tab\there\nnewline", `tab\x09here\x0anewline`},
		{"\u0085c1", `\u0085c1`},
		{"\ufffd kept", "\ufffd kept"},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

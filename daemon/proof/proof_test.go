package proof

import (
	"strings"
	"testing"
)

const tok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestSignVerify(t *testing.T) {
	n := NewNonce()
	if _, err := ParseNonce(n); err != nil {
		t.Fatalf("fresh nonce refused: %v", err)
	}
	a := Answer{PID: 4242, Proof: Sign(tok, n, "127.0.0.1:7070", 4242)}
	if !Verify(tok, n, "127.0.0.1:7070", a) {
		t.Fatal("a correct proof does not verify")
	}
	cases := map[string]func() bool{
		"other token":   func() bool { return Verify(strings.Repeat("f", 64), n, "127.0.0.1:7070", a) },
		"other address": func() bool { return Verify(tok, n, "127.0.0.1:7071", a) },
		"other nonce":   func() bool { return Verify(tok, NewNonce(), "127.0.0.1:7070", a) },
		"other pid":     func() bool { return Verify(tok, n, "127.0.0.1:7070", Answer{PID: 4243, Proof: a.Proof}) },
		"not hex":       func() bool { return Verify(tok, n, "127.0.0.1:7070", Answer{PID: 4242, Proof: "zz"}) },
	}
	for name, verify := range cases {
		if verify() {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestParseNonce(t *testing.T) {
	for _, bad := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("g", 64), strings.Repeat("a", 65), strings.Repeat("a", 63) + "\n"} {
		if _, err := ParseNonce(bad); err == nil {
			t.Errorf("ParseNonce(%q) accepted", bad)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	good := `{"pid":1,"proof":"` + strings.Repeat("a", 64) + `"}`
	if _, err := ParseAnswer([]byte(good)); err != nil {
		t.Fatalf("good answer refused: %v", err)
	}
	for _, bad := range []string{"", "{}", "null", `{"pid":0,"proof":"` + strings.Repeat("a", 64) + `"}`,
		`{"pid":-1,"proof":"` + strings.Repeat("a", 64) + `"}`, `{"pid":1,"proof":"abc"}`,
		`{"pid":1,"proof":"` + strings.Repeat("g", 64) + `"}`, `{"pid":99999999999,"proof":"` + strings.Repeat("a", 64) + `"}`,
		`[` + strings.Repeat(" ", MaxAnswerBytes) + `]`} {
		if _, err := ParseAnswer([]byte(bad)); err == nil {
			t.Errorf("ParseAnswer(%q) accepted", bad)
		}
	}
}

// FuzzParseAnswer: whatever a listener answers, parsing never panics, and
// nothing but a MAC made with the token verifies.
func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(`{"pid":1,"proof":"` + strings.Repeat("a", 64) + `"}`))
	f.Add([]byte(`{"pid":1e3,"proof":null}`))
	f.Add([]byte(`{"pid":"1","proof":1}`))
	f.Add([]byte("\xff\xfe"))
	n := NewNonce()
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAnswer(body)
		if err != nil {
			return
		}
		if Verify(tok, n, "127.0.0.1:7070", a) {
			t.Fatalf("a fuzzed answer verified: %q", body)
		}
	})
}

func FuzzParseNonce(f *testing.F) {
	f.Add(NewNonce())
	f.Add("")
	f.Add(strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNonce(s)
		if err == nil && (len(n) != 64 || n != s) {
			t.Fatalf("accepted %q as %q", s, n)
		}
	})
}

package update

import (
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzConfig: any bytes parse or fail without a panic, and what parses
// saves to a file that parses back to the same settings and kept keys.
func FuzzConfig(f *testing.F) {
	for _, s := range []string{`{"check_for_updates": false}`, `{"x": [1, {"y": null}], "check_for_updates": true}`, `{}`, `{"a":1,"a":2}`, `[`, `{"check_for_updates": 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig(data)
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "config.json")
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
		back, err := LoadConfig(path)
		if err != nil {
			t.Fatalf("%q saved as a file that does not load: %v", data, err)
		}
		if back.CheckForUpdates != c.CheckForUpdates || len(back.other) != len(c.other) {
			t.Fatalf("%q: %+v saved and loaded as %+v", data, c, back)
		}
		for k, v := range c.other {
			if !reflect.DeepEqual([]byte(back.other[k]), []byte(v)) {
				t.Fatalf("%q: key %q kept as %s, loaded as %s", data, k, v, back.other[k])
			}
		}
	})
}

// FuzzParseRelease: a feed's answer is parsed or refused without a
// panic, and what is accepted has a tag and a page checkURL accepts.
func FuzzParseRelease(f *testing.F) {
	for _, s := range []string{`{"tag_name":"v1.2.3","html_url":"https://github.com/x/y/releases/tag/v1.2.3"}`, `{"tag_name":1}`, `null`, `[]`, `{"tag_name":"v1","html_url":"javascript:x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rel, err := parseRelease(data)
		if err != nil {
			return
		}
		if rel.Tag == "" {
			t.Fatalf("%q accepted with no tag", data)
		}
		if _, err := checkURL("page", rel.URL); err != nil {
			t.Fatalf("%q accepted with page %q: %v", data, rel.URL, err)
		}
	})
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf16"
)

// utf8BOM is what some editors put at the start of a file. RFC 8259 lets
// a parser ignore it, and a JSON Lines file saved on Windows often has one.
var utf8BOM = []byte("\xef\xbb\xbf")

// strictProblem finds what encoding/json lets through silently in a body
// that decodes into v (a pointer to a struct): a \u escape that is half
// of a surrogate pair, which it would store as U+FFFD, and a name in the
// top-level object given twice (the last would win) or in another case
// than the field's (it matches names case-insensitively). It returns the
// field to name and why, or "" when there is nothing to say; a body that
// is not JSON at all is left to the decoder's own message.
func strictProblem(body []byte, v any) (field, msg string) {
	if off, ok := loneSurrogate(body); ok {
		return "body", fmt.Sprintf("has a \\u escape at byte %d that is half of a UTF-16 surrogate pair; a character outside the Basic Multilingual Plane is written as a pair (\\ud83d\\ude80) or as itself", off)
	}
	known := jsonNames(reflect.TypeOf(v).Elem())
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", ""
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", ""
		}
		name, _ := t.(string)
		if seen[name] {
			return name, "is given twice; give each field once"
		}
		seen[name] = true
		if !known[name] {
			for k := range known {
				if strings.EqualFold(k, name) {
					return name, fmt.Sprintf("is not a known field; field names are lower case: %q", k)
				}
			}
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", ""
		}
	}
	return "", ""
}

// loneSurrogate reports the offset of the first \u escape inside a JSON
// string that is a high surrogate not followed by an escaped low one, or
// a low surrogate on its own.
func loneSurrogate(b []byte) (int, bool) {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(b):
			if b[i+1] != 'u' {
				i++ // the escaped character, which may be a quote
				continue
			}
			r, ok := hex4(b, i+2)
			if !ok {
				return 0, false // not JSON; the decoder says so
			}
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					if lo, ok := hex4(b, i+8); ok && lo >= 0xdc00 && lo < 0xe000 {
						i += 11
						continue
					}
				}
				return i, true
			case utf16.IsSurrogate(r):
				return i, true
			}
			i += 5
		}
	}
	return 0, false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

var jsonNamesCache sync.Map // reflect.Type -> map[string]bool

// jsonNames are the JSON names of struct type t's fields.
func jsonNames(t reflect.Type) map[string]bool {
	if m, ok := jsonNamesCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name != "":
			m[name] = true
		case f.IsExported():
			m[f.Name] = true
		}
	}
	jsonNamesCache.Store(t, m)
	return m
}

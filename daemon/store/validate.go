package store

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
)

// Limits of a memory, from DESIGN.md ("The memory store").
const (
	MaxTextBytes  = 64 << 10
	MaxTags       = 16
	MaxFieldBytes = 256 // project, source, key
)

// ValidationError is a request the store refuses because of one field. The
// API maps it to 400 and names Field.
type ValidationError struct {
	Field, Msg string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// tagRE is compiled on first use, like secretPatterns.
var tagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`) })

// normalizeTags lowercases, checks, folds duplicates and sorts. Tags are
// case-insensitive: "Prod" and "prod" are one tag, stored as "prod", so a
// filter never misses a memory over case. The result is never nil.
func normalizeTags(in []string) ([]string, error) { return normalizeTagsOf("tags", in) }

// normalizeTagsOf is normalizeTags for a field of another name (a PATCH's
// add_tags, a query's tag filters), which its errors name.
func normalizeTagsOf(field string, in []string) ([]string, error) {
	out, err := normalizeTagList(field, in)
	if err == nil && len(out) > MaxTags {
		return nil, invalid(field, "%d tags given; a memory has at most %d", len(out), MaxTags)
	}
	return out, err
}

func normalizeTagList(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, t := range in {
		// ASCII only: strings.ToLower folds the Kelvin sign to k, and a tag
		// is the ASCII it is shown as.
		n := asciiLower(t)
		if !tagRE().MatchString(n) {
			return nil, invalid(field, "%q is not a valid tag: use 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", t)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func checkText(text string, allowSecret bool) error {
	switch {
	case len(text) == 0:
		return invalid("text", "is empty; a memory needs at least one byte of text")
	case strings.TrimSpace(text) == "":
		return invalid("text", "is only white space; a memory needs words, which recall finds it by")
	case len(text) > MaxTextBytes:
		return invalid("text", "is %d bytes; the limit is %d (64 KiB): split it into several memories", len(text), MaxTextBytes)
	case !utf8.ValidString(text):
		return invalid("text", "is not valid UTF-8")
	case strings.IndexByte(text, 0) >= 0:
		// SQLite's string functions and many clients stop at NUL; refusing it
		// keeps every stored text round-trippable through every tool.
		return invalid("text", "contains a NUL byte")
	}
	if !allowSecret {
		if kind := secretKind(text); kind != "" {
			return invalid("text", "looks like a secret (%s), so it was not stored; remove the secret, or set allow_secret to store it anyway", kind)
		}
	}
	return nil
}

// checkField checks project, source and key: short, UTF-8, no control or
// format characters and no line or paragraph separators (they would break
// or reorder one-line displays and logs: U+202E turns the rest of a line
// around).
func checkField(field, v string) error {
	if len(v) > MaxFieldBytes {
		return invalid(field, "is %d bytes; the limit is %d", len(v), MaxFieldBytes)
	}
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		switch {
		case unicode.IsControl(r):
			return invalid(field, "contains the control character %U", r)
		case reordering(r):
			return invalid(field, "contains the invisible character %U, which changes how the line reads", r)
		}
	}
	return nil
}

// reordering reports the characters that break a line or turn its
// direction around: the line and paragraph separators and the bidi
// marks, embeddings, overrides and isolates. Other invisible format
// characters (the zero-width joiners that Persian and Indic names need)
// pass.
func reordering(r rune) bool {
	switch {
	case r == 0x2028, r == 0x2029, r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// validateNew checks everything about m that does not need the database, so
// the writer only ever sees well-formed requests. It returns m with its tags
// normalized.
func validateNew(m NewMemory, now time.Time) (NewMemory, error) {
	if err := checkText(m.Text, m.AllowSecret); err != nil {
		return m, err
	}
	tags, err := normalizeTags(m.Tags)
	if err != nil {
		return m, err
	}
	m.Tags = tags
	for _, f := range []struct{ name, v string }{{"project", m.Project}, {"source", m.Source}, {"key", m.Key}} {
		if err := checkField(f.name, f.v); err != nil {
			return m, err
		}
	}
	if m.ExpiresAt != nil && !m.ExpiresAt.After(now) {
		return m, invalid("expires_at", "%s is not in the future", m.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if m.ID != "" {
		id, err := ulid.ParseStrict(m.ID)
		if err != nil {
			return m, invalid("id", "%q is not a ULID (26 characters of Crockford base32): %v", m.ID, err)
		}
		m.ID = id.String() // canonical upper case, so lookups by id are exact
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = m.CreatedAt
	}
	if !m.CreatedAt.IsZero() && m.UpdatedAt.Before(m.CreatedAt) {
		return m, invalid("updated_at", "is before created_at")
	}
	return m, nil
}

// secretPatterns are the shapes of credentials people paste by accident.
// Each is anchored on a vendor prefix or a structure, and where a
// structure alone would catch prose (an "sk-" word, "the secret: always
// test"), ok looks at the match; so ordinary text that mentions
// "password" or "sk-learn" passes.
// hint is a substring every match contains (lowercase when fold): a
// strings.Contains check skips the regexp for nearly all text, which
// otherwise cost a sixth of a write's CPU.
// They are compiled on first use, not at init: every `cairn` command links
// the store, and only the daemon checks text.
var secretPatterns = sync.OnceValue(func() []secretPattern {
	return []secretPattern{
		{"a private key block", []string{"PRIVATE KEY"}, false, regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`), nil},
		{"an AWS access key", []string{"AKIA", "ASIA"}, false, regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), nil},
		{"a GitHub token", []string{"gh", "github_pat_"}, false, regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`), nil},
		{"a GitLab token", []string{"glpat-"}, false, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), nil},
		{"a Slack token", []string{"xox", "xapp-"}, false, regexp.MustCompile(`\bx(?:ox[abposr]|app)-[A-Za-z0-9-]{10,}`), nil},
		{"a Stripe secret key", []string{"k_live_"}, false, regexp.MustCompile(`\b[sr]k_live_[A-Za-z0-9]{16,}`), nil},
		{"a Google API key", []string{"AIza"}, false, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`), nil},
		// A key is random: upper and lower case and digits, which a
		// hyphenated name (sk-learn-compatible-estimator-v2) is not.
		{"an OpenAI or Anthropic API key", []string{"sk-"}, false, regexp.MustCompile(`\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{32,}`), func(m []string, _, _ string) bool { return mixed(m[0]) }},
		{"a JSON Web Token", []string{"eyJ"}, false, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), nil},
		{"a Hugging Face or npm token", []string{"hf_", "npm_"}, false, regexp.MustCompile(`\b(?:hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{36})\b`), nil},
		// A URL's password, unless it is one of the words docs put there.
		{"a password in a URL", []string{"://"}, false, regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]*:([^\s/@$<{*][^\s/@<{*]{2,})@[^\s/@]`), func(m []string, _, _ string) bool {
			return !urlPlaceholder[strings.ToLower(m[1])]
		}},
		// A .netrc entry, on one line or several: it names the machine (or
		// starts a line with "default") before login, account and password
		// in any order. "login X password Y" alone is also ordinary prose.
		{"a password in a .netrc entry", []string{"machine", "default"}, false, regexp.MustCompile(`(?m)(?:\bmachine\s+\S+|^[ \t]*default)\s+(?:(?:login|account)\s+\S+\s+)*password\s+[^\s$<{*][^\s<{*]{2,}`), nil},
		// The ways a password goes on a command line.
		{"a password on a command line", []string{"curl"}, false, regexp.MustCompile(`\bcurl\b[^\n]*?\s-u\s*['"]?[^\s:'"]+:[^\s'"@$<{*][^\s'"@<{*]{2,}`), nil},
		{"a password on a command line", []string{"mysql"}, false, regexp.MustCompile(`\bmysql(?:dump|admin)?\b[^\n]*?\s-p[^\s\-$<{*][^\s]{2,}`), nil},
		{"a password on a command line", []string{"sshpass"}, false, regexp.MustCompile(`\bsshpass\b[^\n]*?\s-p\s*[^\s\-$<{*][^\s]{2,}`), nil},
		// An assignment with a value. Placeholders ($VAR, $(cmd), ${VAR},
		// <...>, {{...}}, ***) and empty values pass: they are how people
		// document a setting. A "$" inside a value or before more than a
		// name (pa$$w0rd, $uperS3cret!) is a password's.
		{"a password assignment", []string{"pass", "pw", "secret"}, true, regexp.MustCompile(`(?i)((?:password|passwd|passphrase|passcode|pwd|pw|secret|pass)[a-z0-9_-]*)["']?\s*([:=])\s*(["']?)([^\s"'<{*]{3,})`), assignment},
		// A token or API key set to a long value with digits in it.
		{"a token assignment", []string{"token", "key"}, true, regexp.MustCompile(`(?i)(?:token|api_?key|access_?key|private_?key|auth_?key)["']?\s*[:=]\s*["']?([A-Za-z0-9_\-./+=]{16,})`), func(m []string, _, _ string) bool {
			return credentialLike(m[1]) && strings.IndexFunc(m[1], unicode.IsDigit) >= 0
		}},
	}
})

type secretPattern struct {
	kind string
	hint []string
	fold bool
	re   *regexp.Regexp
	// ok, when set, decides whether a match (its submatches, and the text
	// before and after it) is a secret.
	ok func(m []string, before, after string) bool
}

// assignment decides whether "name: value" sets a credential, from the
// regexp's groups (the name, the separator, a quote, the value's first
// word) and the text after it (does a sentence go on?).
//   - The name holds a password (password, passwd, passphrase, passcode, as a part,
//     its end or with a number: PGPASSWORD, password1) or a secret that
//     names a kind of key (client_secret, secret_key_base, JWT_SECRET_TOKEN;
//     not secret_santa), not followed by a part that makes it a setting
//     about one (password_reset_timeout, password_file); or it ends in pwd or pw,
//     or in pass after another part (DB_PASS; not "boarding pass" or
//     pass_rate).
//   - The value is no answer of a form (true, none, n/a, unchanged…).
//   - Such a password or secret is one after "=" unless a sentence goes
//     on ("guest password = ask reception"), and after ":" when quoted,
//     under a compound name (DB_PASSWORD: …), or with a digit or symbol in
//     it, as passwords have ("VPN password: see 1Password" is a note).
//   - A bare secret, a pwd or a pass needs a quote, a bare "=" or a digit
//     or symbol, and never a path (PWD=/home/alice).
func assignment(m []string, before, after string) bool {
	// The regexp starts at the credential word (a leading name pattern
	// made it ~20 µs a text); the rest of the name is what precedes it,
	// back to a character no name has.
	lead := len(before)
	for lead > 0 && nameByte(before[lead-1]) {
		lead--
	}
	m = append([]string{before[lead:] + m[0], before[lead:] + m[1]}, m[2:]...)
	name := strings.Trim(strings.ToLower(m[1]), "_-")
	next := strings.TrimLeft(after, " \t")
	prose := len(next) < len(after) && next != "" && (unicode.IsLetter([]rune(next)[0]) || unicode.IsDigit([]rune(next)[0]))
	colon, quoted := m[2] == ":", m[3] != ""
	value := strings.TrimRight(m[4], ".,;:)")
	if len(value) < 3 || notAnAnswer[strings.ToLower(value)] || shellReference(value) {
		return false
	}
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' })
	if len(parts) == 0 {
		return false
	}
	strong, weak := false, false
	for i, part := range parts {
		digits := strings.TrimLeft(strings.TrimPrefix(part, "password"), "0123456789") == "" && strings.HasPrefix(part, "password")
		password := digits || strings.HasSuffix(part, "password") || strings.HasSuffix(part, "passwd") || strings.HasSuffix(part, "passphrase") || strings.HasSuffix(part, "passcode")
		secret := strings.HasSuffix(part, "secret")
		if !password && !secret {
			continue
		}
		if slices.ContainsFunc(parts[i+1:], func(p string) bool { return aboutOne[p] }) {
			return false
		}
		keyed := part != "secret" || slices.ContainsFunc(parts, func(p string) bool { return keyKinds[p] })
		strong = password || keyed
		weak = !strong && len(parts) == 1
		break
	}
	if last := parts[len(parts)-1]; !strong && !weak && (last == "pwd" || last == "pw" || last == "pass" && len(parts) > 1) {
		weak = true
	}
	switch {
	case strong && !colon:
		return quoted || !prose
	case strong:
		return quoted || (len(parts) > 1 || credentialLike(value)) && !prose
	case !weak:
		return false
	case strings.HasPrefix(value, "/") || strings.HasPrefix(value, "~") || strings.HasPrefix(value, "."):
		return false
	case quoted, strings.HasPrefix(m[0][len(m[1]):], "="):
		return true
	}
	return credentialLike(value) && !prose
}

// shellReference: a value that is a variable's name or a command's output
// ($DB_PASSWORD, $(cat /run/secrets/db)), which documents where the
// password comes from rather than what it is.
func shellReference(v string) bool {
	if !strings.HasPrefix(v, "$") {
		return false
	}
	if strings.HasPrefix(v, "$(") {
		return true
	}
	for i, c := range v[1:] {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// keyKinds are the name parts that make a secret a key's (client_secret,
// JWT_SECRET_TOKEN), not a word (secret_santa).
var keyKinds = map[string]bool{
	"key": true, "token": true, "access": true, "base": true, "client": true, "api": true, "app": true,
	"jwt": true, "aws": true, "shared": true, "webhook": true, "signing": true, "session": true, "cookie": true,
	"oauth": true, "consumer": true, "private": true, "master": true, "encryption": true, "hmac": true, "db": true,
}

// urlPlaceholder are the passwords docs write in a URL.
var urlPlaceholder = map[string]bool{"pass": true, "password": true, "passwd": true, "secret": true, "pw": true, "pwd": true, "xxx": true, "xxxx": true, "xxxxx": true}

// notAnAnswer are values that say something about a credential, not what
// it is: a form's answers and a note's placeholders.
var notAnAnswer = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "none": true, "null": true,
	"nil": true, "n/a": true, "empty": true, "unset": true, "tbd": true, "todo": true, "redacted": true,
	"hidden": true, "unchanged": true, "enabled": true, "disabled": true,
}

// aboutOne are name parts after "password" or "secret" that make the name
// a setting about one rather than one (password_reset_timeout).
var aboutOne = map[string]bool{
	"reset": true, "timeout": true, "length": true, "len": true, "min": true, "max": true, "policy": true,
	"expiry": true, "expires": true, "expire": true, "hash": true, "hashed": true, "rule": true, "rules": true,
	"required": true, "enabled": true, "hint": true, "file": true, "path": true, "url": true, "field": true,
	"prompt": true, "rotation": true, "age": true, "changed": true, "attempts": true, "strength": true,
	"complexity": true, "history": true, "manager": true, "rate": true, "requirements": true, "requirement": true,
	"less": true,
}

// credentialLike: a value with a digit or a symbol in it, as a password
// has and a word does not.
func credentialLike(v string) bool {
	return strings.IndexFunc(v, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0
}

// mixed: upper and lower case letters and a digit, as a random key has.
func mixed(s string) bool {
	return strings.IndexFunc(s, unicode.IsUpper) >= 0 && strings.IndexFunc(s, unicode.IsLower) >= 0 &&
		strings.IndexFunc(s, unicode.IsDigit) >= 0
}

// LooksLikeSecret reports whether text would be refused as a secret
// without allow_secret.
func LooksLikeSecret(text string) bool { return secretKind(text) != "" }

// secretKind names the kind of secret text seems to contain, or "".
func secretKind(text string) string {
	var lower string
	for _, p := range secretPatterns() {
		t := text
		if p.fold {
			if lower == "" {
				lower = strings.ToLower(text)
			}
			t = lower
		}
		if !slices.ContainsFunc(p.hint, func(h string) bool { return strings.Contains(t, h) }) {
			continue
		}
		if p.ok == nil {
			if p.re.MatchString(text) {
				return p.kind
			}
			continue
		}
		for _, idx := range p.re.FindAllStringSubmatchIndex(text, -1) {
			m := make([]string, len(idx)/2)
			for i := range m {
				if idx[2*i] >= 0 {
					m[i] = text[idx[2*i]:idx[2*i+1]]
				}
			}
			if p.ok(m, text[:idx[0]], text[idx[1]:]) {
				return p.kind
			}
		}
	}
	return ""
}

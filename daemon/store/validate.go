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
func normalizeTags(in []string) ([]string, error) {
	out, err := normalizeTagList("tags", in)
	if err == nil && len(out) > MaxTags {
		return nil, invalid("tags", "%d tags given; a memory has at most %d", len(out), MaxTags)
	}
	return out, err
}

func normalizeTagList(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, t := range in {
		n := strings.ToLower(t)
		if !tagRE().MatchString(n) {
			return nil, invalid(field, "%q is not a valid tag: use 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", t)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func checkText(text string, allowSecret bool) error {
	switch {
	case len(text) == 0:
		return invalid("text", "is empty; a memory needs at least one byte of text")
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

// checkField checks project, source and key: short, UTF-8, no control
// characters (they would corrupt one-line displays and logs).
func checkField(field, v string) error {
	if len(v) > MaxFieldBytes {
		return invalid(field, "is %d bytes; the limit is %d", len(v), MaxFieldBytes)
	}
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalid(field, "contains the control character %U", r)
		}
	}
	return nil
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
// Each is anchored on a vendor prefix or a structure, so ordinary prose that
// mentions "password" or "sk-learn" passes.
// hint is a substring every match contains (lowercase when fold): a
// strings.Contains check skips the regexp for nearly all text, which
// otherwise cost a sixth of a write's CPU.
// They are compiled on first use, not at init: every `cairn` command links
// the store, and only the daemon checks text.
var secretPatterns = sync.OnceValue(func() []secretPattern {
	return []secretPattern{
		{"a private key block", []string{"PRIVATE KEY"}, false, regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`)},
		{"an AWS access key", []string{"AKIA", "ASIA"}, false, regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
		{"a GitHub token", []string{"gh", "github_pat_"}, false, regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)},
		{"a GitLab token", []string{"glpat-"}, false, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
		{"a Slack token", []string{"xox"}, false, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
		{"a Stripe secret key", []string{"k_live_"}, false, regexp.MustCompile(`\b[sr]k_live_[A-Za-z0-9]{16,}`)},
		{"a Google API key", []string{"AIza"}, false, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`)},
		{"an OpenAI or Anthropic API key", []string{"sk-"}, false, regexp.MustCompile(`\bsk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{32,}`)},
		{"a JSON Web Token", []string{"eyJ"}, false, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
		// An assignment with a value. Placeholders ($VAR, <...>, {{...}}, ***)
		// and empty values pass: they are how people document a setting.
		{"a password assignment", []string{"pass", "pwd", "secret"}, true, regexp.MustCompile(`(?i)\b(?:[a-z0-9]+_)*(?:password|passwd|pwd|secret)["']?\s*[:=]\s*["']?[^\s"'$<{*]{3,}`)},
	}
})

type secretPattern struct {
	kind string
	hint []string
	fold bool
	re   *regexp.Regexp
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
		if p.re.MatchString(text) {
			return p.kind
		}
	}
	return ""
}

package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Memory is one stored memory (daemon/store's Memory is this type).
type Memory struct {
	ID           string     `json:"id"`
	Text         string     `json:"text"`
	Tags         []string   `json:"tags"` // never nil: [] when none
	Project      string     `json:"project,omitempty"`
	Source       string     `json:"source,omitempty"`
	Key          string     `json:"key,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	SupersededBy string     `json:"superseded_by,omitempty"`
	Score        float64    `json:"score,omitempty"` // recall only; higher is better
}

// PutResult is the answer of POST /v1/memories.
type PutResult struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"` // created, duplicate or replaced
	CreatedAt time.Time `json:"created_at"`
}

// Page is the answer of GET /v1/memories.
type Page struct {
	Memories   []Memory `json:"memories"`
	NextCursor string   `json:"next_cursor,omitempty"`
	Truncated  bool     `json:"truncated"` // max_bytes cut the page short (next_cursor continues it), or its one memory is longer than max_bytes
}

// TagCount is a tag and how many live memories carry it.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int64  `json:"count"`
}

// Tags is the answer of GET /v1/tags.
type Tags struct {
	Tags []TagCount `json:"tags"`
}

// Stats is the answer of GET /v1/stats.
type Stats struct {
	Count     int64      `json:"count"` // live memories (not superseded, not expired)
	Bytes     int64      `json:"bytes"` // sum of their text lengths
	LastWrite *time.Time `json:"last_write,omitempty"`
	DBBytes   int64      `json:"db_bytes"`
	WALBytes  int64      `json:"wal_bytes"`
	Commits   int64      `json:"commits"` // transactions the writer committed since the daemon started
	Writes    int64      `json:"writes"`  // requests those transactions carried
}

// StoreCheck is the answer of GET /v1/check: the store's integrity checks.
type StoreCheck struct {
	OK    bool   `json:"ok"`
	Count int64  `json:"count"`
	Error string `json:"error,omitempty"`
}

// Deleted is the answer of DELETE /v1/memories/{id}.
type Deleted struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "deleted"
}

// ImportResult is the answer of POST /v1/import.
type ImportResult struct {
	Created   int           `json:"created"`
	Duplicate int           `json:"duplicate"` // already there (same id, or the same text, tags and project)
	Expired   int           `json:"expired"`   // past their expires_at: skipped, as the store would purge them
	Differs   int           `json:"differs"`   // an id already here with other text, tags or project: the one here kept
	Errors    []ImportError `json:"errors"`
}

// ImportError is one line POST /v1/import could not store.
type ImportError struct {
	Line  int    `json:"line"` // 1-based, within the request's body
	Error string `json:"error"`
}

// MaxExpiresIn bounds expires_in: a memory that expires after a century
// does not expire.
const MaxExpiresIn = 100 * 365 * 24 * time.Hour

// ParseExpiresIn reads expires_in: a number of seconds, or a duration
// string with a unit ("90s", "15m", "12h", "7d").
func ParseExpiresIn(raw json.RawMessage) (time.Duration, error) {
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		return checkExpiry(time.Duration(secs * float64(time.Second)))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, errors.New(`must be a number of seconds or a duration such as "12h" or "7d"`)
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return checkExpiry(d)
}

// ParseDuration is time.ParseDuration that also takes days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; use a unit, e.g. 90s, 15m, 12h or 7d", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; use a unit, e.g. 90s, 15m, 12h or 7d", s)
	}
	return d, nil
}

func checkExpiry(d time.Duration) (time.Duration, error) {
	if d < time.Second || d > MaxExpiresIn {
		return 0, errors.New("must be at least 1 second and at most 100 years")
	}
	return d, nil
}

// ParseTime reads since/until: RFC 3339 ("2026-12-01T10:00:00Z"), a date
// ("2026-12-01", midnight UTC), or Unix milliseconds of at least 12 digits
// (from late 2001 on): a shorter number is a year ("2026"), a date written
// without dashes or Unix seconds, each of which would otherwise mean a
// moment in 1970. Empty is zero.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 && len(s) >= 12 {
		return time.UnixMilli(ms), nil
	}
	msg := fmt.Sprintf("%q is not a time; use RFC 3339 (2026-12-01T10:00:00Z), a date (2026-12-01) or Unix milliseconds (13 digits, e.g. 1764583200000)", s)
	if strings.Contains(s, " ") {
		msg += "; in a URL a '+' reads as a space: write a time zone's + as %2B"
	}
	return time.Time{}, errors.New(msg)
}

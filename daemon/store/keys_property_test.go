package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestKeysStayWhole: random writes with two keys (some expiring), imports
// older or newer than the live memory of their key, forgets and purges;
// after every purge each key with a memory that has not expired has
// exactly one live one, nothing is superseded by itself or by a memory
// that is gone, and Count is the live rows. A review's randomized test
// found a key left with two live memories this way.
func TestKeysStayWhole(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			keysStayWhole(t, seed)
		})
	}
}

func keysStayWhole(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 9))
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: c.now})
	ctx := context.Background()
	var ids, ops []string
	for n := 1; n <= 40; n++ {
		c.t = c.t.Add(time.Duration(1+rng.IntN(3)) * time.Second)
		key := []string{"k1", "k2"}[rng.IntN(2)]
		var expires *time.Time
		if rng.IntN(3) == 0 {
			e := c.t.Add(time.Duration(1+rng.IntN(8)) * time.Second)
			expires = &e
		}
		switch op := rng.IntN(10); {
		case op < 4:
			r := mustPut(t, s, NewMemory{Text: fmt.Sprintf("text %d", n), Key: key, ExpiresAt: expires})
			ids = append(ids, r.ID)
			ops = append(ops, fmt.Sprintf("put %d %s expiring=%v: %s", n, key, expires != nil, r.Status))
		case op < 6:
			created := c.t.Add(-time.Duration(rng.IntN(30)) * time.Second)
			r := mustPut(t, s, NewMemory{ID: fmt.Sprintf("01M8ZD3%019d", n), Text: fmt.Sprintf("import %d", n), Key: key, CreatedAt: created, ExpiresAt: expires})
			ids = append(ids, r.ID)
			ops = append(ops, fmt.Sprintf("import %d %s %v ago expiring=%v: %s", n, key, c.t.Sub(created), expires != nil, r.Status))
		case op < 8 && len(ids) > 0:
			id := ids[rng.IntN(len(ids))]
			ops = append(ops, fmt.Sprintf("forget %s: %v", id, s.Delete(ctx, id)))
		default:
			if res := s.send(ctx, &request{kind: opPurge}); res.err != nil {
				t.Fatal(res.err)
			}
			ops = append(ops, "purge")
			if problem := keyProblem(t, s, c.t); problem != "" {
				t.Fatalf("after %d operations: %s\n%q", len(ops), problem, ops)
			}
		}
	}
}

// keyProblem is what is wrong with the store's keys at now, or "".
func keyProblem(t *testing.T, s *Store, now time.Time) string {
	t.Helper()
	rows, err := s.rdb.Query("SELECT id, coalesce(key, ''), coalesce(superseded_by, ''), expires_at FROM memories")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids, by := map[string]bool{}, map[string]string{}
	live, present := map[string]int{}, map[string]bool{}
	var liveRows int64
	for rows.Next() {
		var id, key, sup string
		var expires sql.NullInt64
		if err := rows.Scan(&id, &key, &sup, &expires); err != nil {
			t.Fatal(err)
		}
		ids[id], by[id] = true, sup
		if sup == "" {
			liveRows++
		}
		if key == "" || expires.Valid && expires.Int64 <= now.UnixMilli() {
			continue
		}
		present[key] = true
		if sup == "" {
			live[key]++
		}
	}
	for key := range present {
		if live[key] != 1 {
			return fmt.Sprintf("key %s has %d live memories", key, live[key])
		}
	}
	for id, sup := range by {
		if sup == id || sup != "" && !ids[sup] {
			return fmt.Sprintf("%s is superseded by %q, which is itself or gone", id, sup)
		}
	}
	if liveRows != s.Count() {
		return fmt.Sprintf("Count %d, live rows %d", s.Count(), liveRows)
	}
	return ""
}

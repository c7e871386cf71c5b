//go:build !windows

package store

import "strings"

// dsnName is how every connection names the database: a SQLite URI with
// mode=rw, so a connection opened later by name (a reader the pool adds,
// the idle checkpoint, Check) fails on a store moved or deleted while the
// daemon runs, where SQLite would have made a new, empty database in its
// place. The file always exists by then: Open makes it first. '%' and '#'
// are escaped; open refuses '?'. The driver takes its own parameters from
// a URI's query as from a plain name's.
func dsnName(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "#", "%23").Replace(path) + "?mode=rw&"
}

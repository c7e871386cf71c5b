package update

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/daemon/safefile"
)

// maxStateFile caps what is read of update.json: a feed URL, an ETag, one
// release and a few notified versions.
const maxStateFile = 64 << 10

// maxNotified is how many notified versions are remembered; the oldest go
// first. One is enough for versions that only ever grow; a few more cover
// a release that was pulled and a lower one that came back.
const maxNotified = 16

// State is update.json in the data dir: the last answer of the feed (so
// the next check can send If-None-Match and take a 304) and the versions
// the tray has told the user about. It is a cache: a broken file is
// dropped, and the worst that costs is a notification shown again.
type State struct {
	Feed      string    `json:"feed"`       // the URL the answer came from
	ETag      string    `json:"etag"`       // its ETag; "" when it sent none
	Release   *Release  `json:"release"`    // its answer; nil before the first
	CheckedAt time.Time `json:"checked_at"` // when it last answered (200 or 304)
	Notified  []string  `json:"notified"`   // tags the user was told about, oldest first
}

// LoadState reads update.json. A missing file is an empty State and no
// error; anything else that cannot be read or parsed is an empty State
// and an error saying why, for the log.
func LoadState(path string) (State, error) {
	data, err := safefile.ReadFile(path, maxStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return State{}, fmt.Errorf("%s is not Cairn's update state (%v); it will be replaced", path, err)
	}
	if dec.More() {
		return State{}, fmt.Errorf("%s has data after its JSON object; it will be replaced", path)
	}
	return s, nil
}

// SaveState writes update.json, 0600, atomically (a rename replaces a
// symlink or FIFO planted there, never follows it).
func SaveState(path string, s State) error {
	if len(s.Notified) > maxNotified {
		s.Notified = s.Notified[len(s.Notified)-maxNotified:]
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}

func (s State) notified(tag string) bool {
	for _, t := range s.Notified {
		if t == tag {
			return true
		}
	}
	return false
}

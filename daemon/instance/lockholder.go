package instance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sameDataDir checks, from a daemon's environment, that it serves dataDir:
// its CAIRN_HOME names the same dir, or both it and we (ourCairnHome) use the
// OS default. It is how a lock record is confirmed where the kernel does
// not say who holds a lock.
func sameDataDir(environ []string, dataDir, ourCairnHome string) error {
	theirs, set := "", false
	for _, kv := range environ {
		// The first entry, as the daemon's own os.Getenv reads it.
		if v, ok := strings.CutPrefix(kv, "CAIRN_HOME="); ok {
			theirs, set = v, true
			break
		}
	}
	switch {
	case !set || theirs == "":
		if ourCairnHome == "" {
			return nil
		}
		return fmt.Errorf("it serves the default data dir, not %s", dataDir)
	case filepath.Clean(theirs) == filepath.Clean(dataDir):
		return nil
	}
	a, errA := os.Stat(theirs)
	b, errB := os.Stat(dataDir)
	if errA == nil && errB == nil && os.SameFile(a, b) {
		return nil
	}
	return fmt.Errorf("it serves the data dir %s, not %s", theirs, dataDir)
}

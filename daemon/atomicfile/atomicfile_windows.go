package atomicfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// rename retries briefly: on Windows a reader that holds the target open
// (an editor, a virus scanner, another Cairn tool) makes MoveFileEx fail
// with a sharing or access error for a moment.
func rename(from, to string) error {
	var err error
	delay := 2 * time.Millisecond
	for range 10 {
		if err = os.Rename(from, to); err == nil {
			return nil
		}
		if !errors.Is(err, windows.ERROR_ACCESS_DENIED) && !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
	return err
}

// syncDir is a no-op: Windows cannot open a directory for FlushFileBuffers
// through os.Open, and NTFS journals the rename itself.
func syncDir(string) error { return nil }

// isUnsupported reports a Chmod that Windows cannot express.
func isUnsupported(err error) bool { return err != nil }

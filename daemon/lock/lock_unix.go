//go:build !windows

package lock

import "os"

func recordPath(path string) string { return path }

// writeRecord writes the PID into the locked file itself. A reader racing
// with it may see an empty or shorter file, which ParseRecord rejects; it
// never sees another process's PID.
func writeRecord(l *Lock, data []byte) error {
	f, err := os.OpenFile(l.path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return err
	}
	return f.Close()
}

// release removes the path only while it still names the file we locked:
// if someone deleted it and a successor created and locked a new one, that
// file is the successor's.
func release(l *Lock) error {
	var rmErr error
	if same, _ := namesLockedFile(l.fl, l.path); same {
		rmErr = os.Remove(l.path)
	}
	if err := l.fl.Unlock(); err != nil {
		return err
	}
	if rmErr != nil && !os.IsNotExist(rmErr) {
		return rmErr
	}
	return nil
}

package tray

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cairnlabs/cairn/internal/opener"
)

// openWait is how long a launcher that fails is waited for: xdg-open that
// finds no handler (or a browser that refuses to run as root) exits within
// it; one that works may run as long as the browser does.
const openWait = 5 * time.Second

// OpenDefault shows a URL or folder with the desktop's default handler and
// reports a launcher that fails within openWait, with its last words. A
// handler still running then is taken to work, and reaped in the
// background.
func OpenDefault(target string) error {
	cmd := opener.Command(target)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second // a browser it started may hold the pipes
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) && !errors.Is(err, exec.ErrWaitDelay) {
			return err
		}
		if exit == nil {
			return nil
		}
		msg := fmt.Sprintf("%s %s", filepath.Base(cmd.Path), exit)
		if last := lastLine(out.String()); last != "" {
			msg += ": " + last
		}
		return errors.New(msg)
	case <-time.After(openWait):
		return nil
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// syncBuffer keeps what a launcher printed, at most 16 KiB.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 16<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Package discovery reads and writes the http_addr files through which
// local tools find the daemon: "host:port" and a newline, written atomically
// the moment the daemon binds and removed when it shuts down cleanly.
package discovery

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/daemon/safefile"
)

// ErrInvalid means a discovery file does not hold a loopback host:port.
var ErrInvalid = errors.New("discovery file is not a loopback host:port")

// maxFileSize bounds what Read accepts; a real file is under 32 bytes.
const maxFileSize = 256

// Format returns the file content for addr.
func Format(addr netip.AddrPort) []byte {
	return []byte(addr.String() + "\n")
}

// Parse validates file content. It accepts exactly one line (a trailing
// newline is optional) holding a loopback IP and a port in 1..65535, so a
// tampered file can never point a client, and its token, at another host.
func Parse(data []byte) (netip.AddrPort, error) {
	line := bytes.TrimSuffix(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 || len(line) > 64 || bytes.ContainsAny(line, "\r\n \t") {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrInvalid, clip(data))
	}
	host, port, err := net.SplitHostPort(string(line))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrInvalid, clip(data))
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" || !ip.Unmap().IsLoopback() {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrInvalid, clip(data))
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != port {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrInvalid, clip(data))
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(n)), nil
}

// Read reads and validates one discovery file. It never follows a symlink
// or blocks on a FIFO there, and reads at most maxFileSize bytes.
func Read(path string) (netip.AddrPort, error) {
	data, err := safefile.ReadFile(path, maxFileSize)
	if errors.Is(err, safefile.ErrTooLarge) {
		return netip.AddrPort{}, fmt.Errorf("%w: file is larger than %d bytes", ErrInvalid, maxFileSize)
	}
	if err != nil {
		return netip.AddrPort{}, err
	}
	return Parse(data)
}

// Write writes addr to every file atomically, creating their folders (0700).
// It stops at the first failure.
func Write(files []string, addr netip.AddrPort) error {
	data := Format(addr)
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return fmt.Errorf("write discovery file: %w", err)
		}
		if err := atomicfile.Write(f, data, 0o600); err != nil {
			return fmt.Errorf("write discovery file: %w", err)
		}
	}
	return nil
}

// RemoveIfAddr removes each file that still names addr and leaves any other
// content alone. Callers hold the daemon lock while calling it, which is
// what makes "still names addr" mean "is still ours": a successor must take
// the lock before it writes.
func RemoveIfAddr(files []string, addr netip.AddrPort) error {
	var errs []error
	for _, f := range files {
		got, err := Read(f)
		if err != nil || got != addr {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "…"...)
	}
	return b
}

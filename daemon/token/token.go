// Package token manages control.token, the shared secret that every API
// call but /health must present. Any local user can reach 127.0.0.1; the
// file's 0600 mode is what keeps other users out.
package token

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/daemon/safefile"
)

// Size is the token's length in hex characters (32 random bytes).
const Size = 64

// ErrInvalid means the file does not hold a well-formed token.
var ErrInvalid = errors.New("control token is malformed")

// maxFileSize bounds what Read accepts: a token file is 65 bytes.
const maxFileSize = 1024

// Read returns the token at path. It never follows a symlink or blocks on a
// FIFO there, and reads at most maxFileSize bytes (safefile).
func Read(path string) (string, error) {
	data, err := safefile.ReadFile(path, maxFileSize)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(data))
	if !Valid(tok) {
		return "", fmt.Errorf("%w: %s", ErrInvalid, path)
	}
	return tok, nil
}

// Valid reports whether s is 64 lowercase hex characters.
func Valid(s string) bool {
	if len(s) != Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// LoadOrCreate returns the token at path. It writes a new one (0600) when the
// file is missing or malformed, and also when other users could read the
// file: such a token may already be known to them, so it is replaced rather
// than just re-permissioned. A symlink, FIFO or device at path is replaced
// the same way: the atomic rename replaces the directory entry itself, so
// the link's target is never opened, read or written.
func LoadOrCreate(path string) (tok string, created bool, err error) {
	if tok, err := Read(path); err == nil && private(path) {
		return tok, false, nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, err
	}
	tok = hex.EncodeToString(raw[:])
	if err := atomicfile.Write(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write control token: %w", err)
	}
	return tok, true, nil
}

// Private reports whether only the owner can read the token file.
func Private(path string) bool { return private(path) }

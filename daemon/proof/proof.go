// Package proof is how a Cairn daemon proves, before any client sends it the
// control token, that it holds that token and serves the address the client
// dialled. Any local user can bind a port that a crashed daemon left named
// in http_addr; a listener that cannot answer the challenge never sees the
// token.
//
// The exchange, on one TCP connection, before any request with the token:
//
//	client → GET /v1/proof?nonce=<64 hex: 32 random bytes>
//	daemon → {"pid": <its PID>, "proof": hex(HMAC-SHA256(token, Message(nonce, addr, pid)))}
//
// The client recomputes the MAC with the token it read from the data dir,
// the address it dialled and the PID the daemon claims, compares in constant
// time, and only then sends "Authorization: Bearer <token>" on that same
// connection. Binding the address stops a relay: a squatter on 7070 that
// forwards the challenge to a real daemon on 7071 gets a MAC over
// "127.0.0.1:7071", which the client rejects. Binding the PID lets the
// client hold the answer against the lock holder.
package proof

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Path is the route of the challenge; it needs no token.
const Path = "/v1/proof"

// NonceBytes is the challenge's size before hex encoding.
const NonceBytes = 32

// MaxAnswerBytes bounds the answer a client reads; a real one is ~110 bytes.
const MaxAnswerBytes = 1 << 10

// Answer is the body of GET /v1/proof.
type Answer struct {
	PID   int    `json:"pid"`
	Proof string `json:"proof"`
}

// ErrBadNonce means the challenge is not 64 lowercase hex characters.
var ErrBadNonce = errors.New("nonce must be 64 lowercase hex characters (32 random bytes)")

// NewNonce returns a fresh random challenge, hex encoded.
func NewNonce() string {
	var b [NonceBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand panics on a broken source)
	return hex.EncodeToString(b[:])
}

// ParseNonce checks a challenge as the daemon receives it.
func ParseNonce(s string) (string, error) {
	if len(s) != 2*NonceBytes {
		return "", ErrBadNonce
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", ErrBadNonce
		}
	}
	return s, nil
}

// Message is what the MAC covers. Every field is fixed-form (hex, a
// host:port, decimal), and newlines separate them, so no two different
// triples give the same message.
func Message(nonce, addr string, pid int) []byte {
	return []byte("cairn-proof-v1\n" + nonce + "\n" + addr + "\n" + strconv.Itoa(pid))
}

// Sign is the daemon's side: the proof for nonce, bound to the address it
// serves and its PID.
func Sign(token, nonce, addr string, pid int) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(Message(nonce, addr, pid))
	return hex.EncodeToString(m.Sum(nil))
}

// ParseAnswer decodes the daemon's answer strictly: one JSON object with a
// positive PID and a 64-hex-character proof, nothing else.
func ParseAnswer(body []byte) (Answer, error) {
	var a Answer
	if len(body) > MaxAnswerBytes {
		return a, fmt.Errorf("proof answer is larger than %d bytes", MaxAnswerBytes)
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return Answer{}, fmt.Errorf("proof answer is not JSON: %w", err)
	}
	if a.PID <= 0 || a.PID > 1<<31-1 {
		return Answer{}, errors.New("proof answer has no valid PID")
	}
	if len(a.Proof) != 2*sha256.Size {
		return Answer{}, errors.New("proof answer has no 64-character proof")
	}
	if _, err := hex.DecodeString(a.Proof); err != nil {
		return Answer{}, errors.New("proof answer's proof is not hex")
	}
	return a, nil
}

// Verify is the client's side: whether a proves knowledge of token for the
// nonce it sent and the address it dialled, compared in constant time.
func Verify(token, nonce, addr string, a Answer) bool {
	got, err := hex.DecodeString(a.Proof)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write(Message(nonce, addr, a.PID))
	return hmac.Equal(got, m.Sum(nil))
}

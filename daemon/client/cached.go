package client

import (
	"net/netip"
	"sync"

	"github.com/cairnlabs/cairn/daemon/discovery"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/token"
)

// Cached hands out one client for a data dir for as long as the discovery
// file and the token stay the same, so a supervisor's probes ride one
// proven keep-alive connection: under a flood of other users' connections
// the daemon keeps an authenticated one open, where a new dial would wait
// its turn.
type Cached struct {
	p paths.Paths

	mu   sync.Mutex
	c    *Client
	addr netip.AddrPort
	tok  string
}

// NewCached returns a Cached for p.
func NewCached(p paths.Paths) *Cached { return &Cached{p: p} }

// Get returns the client for what the data dir names now: the cached one
// when the address and token are unchanged, else a new one (the old one's
// connections are closed).
func (k *Cached) Get() (*Client, error) {
	if err := k.p.CheckDataDir(); err != nil {
		return nil, err
	}
	addr, err := discovery.Read(k.p.AddrFile)
	if err != nil {
		return nil, err
	}
	tok, _ := token.Read(k.p.Token)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil && k.addr == addr && k.tok == tok {
		return k.c, nil
	}
	if k.c != nil {
		k.c.CloseIdle()
	}
	k.c, k.addr, k.tok = ForAddr(k.p, addr), addr, tok
	return k.c, nil
}

package server

import (
	"sync"

	"github.com/cairnlabs/cairn/daemon/api"
)

// Feed fans the store's changes out to the event streams (/v1/events), so
// the dashboard and the tray follow new memories without polling. The store
// calls Changed on its writer goroutine, so it never blocks: a stream that
// is behind misses an event, and the next one carries the count anew.
type Feed struct {
	mu   sync.Mutex
	subs map[chan api.MemoryEvent]struct{}
}

// NewFeed returns an empty feed; hand it to the store's OnWrite/OnDelete
// and to Server.SetFeed.
func NewFeed() *Feed { return &Feed{subs: map[chan api.MemoryEvent]struct{}{}} }

// Changed tells every stream that the memory id was written or deleted.
func (f *Feed) Changed(id, action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- api.MemoryEvent{ID: id, Action: action}:
		default:
		}
	}
}

func (f *Feed) subscribe() (<-chan api.MemoryEvent, func()) {
	ch := make(chan api.MemoryEvent, 16)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}

// SetFeed makes the event streams carry a `memory` event for each change.
func (s *Server) SetFeed(f *Feed) { s.feed = f }

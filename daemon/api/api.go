// Package api holds the JSON shapes of the daemon's local HTTP API, shared
// by the server and its client so the two cannot drift apart.
package api

import "time"

// Service is the value of Health.Service; it tells a Cairn daemon apart from
// any other server that happens to answer /health.
const Service = "cairn"

// Health is the body of GET /health. It holds nothing private.
type Health struct {
	Status  string  `json:"status"`
	Service string  `json:"service"`
	PID     int     `json:"pid"`
	Version string  `json:"version"`
	Uptime  float64 `json:"uptime_s"`
}

// Status is the body of GET /v1/status.
type Status struct {
	PID        int       `json:"pid"`
	Addr       string    `json:"addr"`
	StartedAt  time.Time `json:"started_at"`
	Uptime     float64   `json:"uptime_s"`
	Version    string    `json:"version"`
	DataDir    string    `json:"data_dir"`
	Supervisor string    `json:"supervisor"` // tray, systemd, launchd, cli, terminal, unknown
	// Memories is the number of live memories; -1 when the store is not
	// open. Not in /health: how much another user's daemon holds, and when
	// it grows, is that user's business.
	Memories int64 `json:"memories"`
}

// Error is the body of every error response. Field names the input that
// was wrong, for a 400 about one field.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// Event names sent on GET /v1/events.
const (
	EventReady     = "ready"
	EventHeartbeat = "heartbeat"
	EventDraining  = "draining"
	EventStopping  = "stopping"
	// EventMemory says a memory was written or deleted; its data is a
	// MemoryEvent.
	EventMemory = "memory"
)

// Session is the answer of POST /v1/session: a one-time code for the
// dashboard, and the URL that trades it for a browser session.
type Session struct {
	Code      string `json:"code"`
	URL       string `json:"url"`
	ExpiresIn int    `json:"expires_in"` // seconds the code stays valid
}

// MemoryEvent is the data of a `memory` event on /v1/events.
type MemoryEvent struct {
	ID     string `json:"id"`
	Action string `json:"action"` // "written" (created, replaced or updated) or "deleted"
	Count  int64  `json:"count"`  // live memories after it
}

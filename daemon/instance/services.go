package instance

import (
	"context"
	"strings"

	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/daemon/service"
)

// Services is what the engine needs from a service manager: which service,
// if any, runs a daemon, and a way to stop it that the manager will not
// undo by respawning it. service.Detect provides the OS's own; tests pass a
// fake.
type Services interface {
	// ServiceOf returns the service whose main process is pid, nil when
	// none is, or an error when the manager cannot be asked.
	ServiceOf(ctx context.Context, pid int) (*service.Unit, error)
	StopUnit(ctx context.Context, u service.Unit) error
}

// DefaultServices is the OS's service manager, or nil where there is none.
func DefaultServices() Services {
	m, err := service.Detect()
	if err != nil || m == nil {
		return nil
	}
	return m
}

// findService says which service runs the daemon pid. The manager's answer
// is authoritative. Only when it cannot be asked does the daemon's own word
// count (its /v1/status supervisor, or INVOCATION_ID / XPC_SERVICE_NAME in
// its environment): that yields a Unit without a Name, which no takeover
// acts on, because stopping an unknown unit is impossible and killing the
// daemon would only get it respawned.
func findService(ctx context.Context, healthy *client.Client, svcs Services, pid int) (*service.Unit, string) {
	supervisor := ""
	if healthy != nil {
		supervisor = statusSupervisor(ctx, healthy)
	}
	if svcs != nil {
		u, err := svcs.ServiceOf(ctx, pid)
		if u != nil || err == nil {
			return u, supervisor
		}
	}
	hint := supervisor
	if hint == "" {
		// Not healthy, or it answered /health and then hung before
		// /v1/status: its environment is the word left.
		hint = environSupervisor(ctx, pid)
	}
	if hint == service.Systemd || hint == service.Launchd {
		return &service.Unit{Manager: hint}, supervisor
	}
	return nil, supervisor
}

// statusSupervisor asks a healthy daemon who started it, on the connection
// its probe proved.
func statusSupervisor(ctx context.Context, c *client.Client) string {
	ctx, cancel := context.WithTimeout(ctx, client.ProbeTimeout)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return ""
	}
	return st.Supervisor
}

// environSupervisor reads what started pid from its environment, where the
// OS lets this user read it (Linux: /proc/<pid>/environ of own processes).
func environSupervisor(ctx context.Context, pid int) string {
	env, err := proc.Environ(ctx, pid)
	if err != nil {
		return ""
	}
	var sup, invocation, xpc string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "CAIRN_SUPERVISOR":
			sup = v
		case "INVOCATION_ID":
			invocation = v
		case "XPC_SERVICE_NAME":
			xpc = v
		}
	}
	switch {
	case sup != "":
		return sup
	case invocation != "":
		return service.Systemd
	case xpc != "" && xpc != "0" && !strings.HasPrefix(xpc, "application."):
		return service.Launchd
	}
	return ""
}

package tray

import (
	"context"
	"errors"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/daemon/proc"
	"github.com/cairnlabs/cairn/tray/supervisor"
)

// TakeoverFunc is the real App.Takeover: the engine behind `cairn takeover`,
// told which holder the user was shown (st, the status the menu or the
// notification drew), so it stops that one or nothing.
func TakeoverFunc(p paths.Paths, log func(msg string, args ...any)) func(context.Context, supervisor.Status) (string, error) {
	return func(ctx context.Context, st supervisor.Status) (string, error) {
		expect, err := shownHolder(st)
		if err != nil {
			return "", err
		}
		return instance.Takeover(ctx, p, st.Port, instance.TakeoverOptions{Log: log, Expect: expect})
	}
}

// shownHolder is the holder st showed the user. A daemon that stopped
// answering its probes was shown by its PID alone, so only the PID must
// match; a status that named no one offers nothing to stop.
func shownHolder(st supervisor.Status) (*instance.Holder, error) {
	switch {
	case st.Takeover != nil:
		return st.Takeover, nil
	case st.State == supervisor.NotResponding && st.PID > 0:
		return &instance.Holder{Processes: []*proc.Process{{PID: st.PID, Name: "cairn"}}}, nil
	}
	return nil, errors.New("the tray has not identified who holds the port; wait for its next check, then take over again")
}

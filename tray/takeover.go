package tray

import (
	"context"

	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/daemon/paths"
	"github.com/cairnlabs/cairn/tray/supervisor"
)

// TakeoverFunc is the real App.Takeover: the engine behind `cairn takeover`.
func TakeoverFunc(p paths.Paths, log func(msg string, args ...any)) func(context.Context, supervisor.Status) (string, error) {
	return func(ctx context.Context, st supervisor.Status) (string, error) {
		return instance.Takeover(ctx, p, st.Port, instance.TakeoverOptions{Log: log})
	}
}

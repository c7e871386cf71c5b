//go:build !linux

package main

import (
	"context"
	"time"
)

func runTray(ctx context.Context, root, tmp, trayBin, cairnBin string, window time.Duration, n, warmup int) (*idleResult, []sample, error) {
	return nil, nil, errTrayUnsupported
}

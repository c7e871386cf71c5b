//go:build !darwin

package daemon

import "context"

// checkSharedPort is a no-op where the kernel already refuses our bind
// beside a wildcard listener (Linux, Windows), keeping the ~10 ms socket
// table scan off the start path.
func checkSharedPort(ctx context.Context, port int) error { return nil }

package rundump

import "context"

// Windows has no signal to ask with; the dump is for Unix.
func onSignal(context.Context, func()) {}

// Package exitcode is the written contract between `cairn serve
// --foreground` and whoever supervises it (the tray, `cairn start`, launchd,
// systemd): supervisors act on these codes and never parse stderr.
package exitcode

import "errors"

// The exit codes of `cairn serve --foreground`.
const (
	OK         = 0 // clean shutdown, or a healthy daemon already runs (nothing started)
	Failure    = 1 // any other failure
	Usage      = 2 // bad usage
	PortInUse  = 3 // port already in use by another process
	LockHeld   = 4 // lock held by a live process that is not a healthy Cairn daemon
	DataDirBad = 5 // data dir or lock file unusable
)

// Error carries an exit code with a one-line message that says what happened
// and what to do next.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// New returns an *Error.
func New(code int, msg string) *Error { return &Error{Code: code, Msg: msg} }

// Of returns the exit code for err: 0 for nil, the carried code for an
// *Error, 1 for anything else.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failure
}

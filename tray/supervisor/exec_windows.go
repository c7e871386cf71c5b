package supervisor

import (
	"errors"
	"os"
)

// terminate has no graceful signal to send on Windows; the API shutdown
// came first, so the caller goes on to Kill.
func terminate(*os.Process) error { return errors.New("no graceful signal on Windows") }

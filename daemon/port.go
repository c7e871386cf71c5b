package daemon

import (
	"fmt"
	"os"
	"strconv"
)

// ResolvePort is the port every Cairn program uses: flag when it is set
// (not 0), else $CAIRN_PORT, else DefaultPort. Out-of-range values are
// refused with a message that names where they came from.
func ResolvePort(flag int) (int, error) {
	if flag != 0 {
		if flag < 1 || flag > 65535 {
			return 0, fmt.Errorf("--port %d is out of range; use 1-65535", flag)
		}
		return flag, nil
	}
	env := os.Getenv("CAIRN_PORT")
	if env == "" {
		return DefaultPort, nil
	}
	n, err := strconv.Atoi(env)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("CAIRN_PORT=%q is not a port; use 1-65535 or unset it", env)
	}
	return n, nil
}

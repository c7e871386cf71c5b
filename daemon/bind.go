package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/proc"
)

// bind takes exactly 127.0.0.1:port and also [::1]:port where the machine
// has IPv6. Holding [::1] too matters: a client that resolves localhost to
// ::1 would otherwise reach whoever listens there, not us. It never tries
// another port.
func bind(ctx context.Context, port int) ([]net.Listener, netip.AddrPort, error) {
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	v4, err := net.Listen("tcp4", addr.String())
	if err != nil {
		return nil, addr, bindError(ctx, addr.String(), port, err)
	}
	lns := []net.Listener{v4}
	v6addr := fmt.Sprintf("[::1]:%d", port)
	v6, err := net.Listen("tcp6", v6addr)
	switch {
	case err == nil:
		lns = append(lns, v6)
	case isAddrInUse(err):
		v4.Close()
		return nil, addr, bindError(ctx, v6addr, port, err)
	default:
		// No IPv6 loopback on this machine: nobody can listen there either.
	}
	for _, ln := range lns {
		if err := shortenBacklog(ln); err != nil {
			closeAll(lns)
			return nil, addr, exitcode.New(exitcode.Failure, fmt.Sprintf("set the listen backlog of %s: %v", ln.Addr(), err))
		}
	}
	if err := checkSharedPort(ctx, port); err != nil {
		closeAll(lns)
		return nil, addr, err
	}
	return lns, addr, nil
}

func bindError(ctx context.Context, addr string, port int, err error) error {
	if !isAddrInUse(err) {
		return exitcode.New(exitcode.Failure, fmt.Sprintf("bind %s: %v", addr, unwrapSyscall(err)))
	}
	holders, _ := proc.Listeners(ctx, port)
	return portInUse(addr, port, holders)
}

func portInUse(addr string, port int, holders []proc.Listener) error {
	return exitcode.New(exitcode.PortInUse, fmt.Sprintf(
		"bind %s: port %d is already in use by %s. Stop that process ('cairn takeover' does it, and says first what it stops), or start Cairn on another port with --port.",
		addr, port, proc.DescribeHolders(holders)))
}

func unwrapSyscall(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

package proc

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// TCPOwner asks the kernel (sock_diag over netlink) which user owns the TCP
// socket with source src and destination dst: for a daemon, its peer's end
// of an accepted connection (src = the peer's address); for a client, the
// daemon's end of its connection (src = the daemon's address), which has
// its listener's owner. The kernel looks it up as it would a packet from
// dst to src, so with no such connection it finds the listener a new one
// would reach. One small request answered from the kernel's socket hash,
// where /proc/net/tcp walks every bucket of it (4 ms on this machine):
// cheap enough for every accept, even during a flood.
func TCPOwner(src, dst netip.AddrPort) (int, bool) {
	sock, err := TCPSocket(src, dst)
	return sock.UID, err == nil
}

// TCPSocket is TCPOwner with what else the kernel says: whether a process
// holds the socket. ErrNoSocket: the kernel has no such socket (nor a
// listener it would reach); ErrCannotAsk: sock_diag is not there to ask.
func TCPSocket(src, dst netip.AddrPort) (PeerSocket, error) {
	local, remote := dst, src
	diag.once.Do(diag.open)
	if diag.err != nil {
		return PeerSocket{}, fmt.Errorf("%w: %v", ErrCannotAsk, diag.err)
	}
	family := uint8(unix.AF_INET)
	if remote.Addr().Is6() && !remote.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	// struct nlmsghdr (16 bytes), then struct inet_diag_req_v2 (56 bytes).
	req := make([]byte, 16+56)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST)
	r := req[16:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(r[4:], ^uint32(0))  // every state
	id := r[8:]                                       // struct inet_diag_sockid (48 bytes)
	binary.BigEndian.PutUint16(id[0:], remote.Port()) // the client's socket: source = remote
	binary.BigEndian.PutUint16(id[2:], local.Port())
	putAddr(id[4:20], remote.Addr(), family)
	putAddr(id[20:36], local.Addr(), family)
	binary.NativeEndian.PutUint32(id[40:], ^uint32(0)) // INET_DIAG_NOCOOKIE
	binary.NativeEndian.PutUint32(id[44:], ^uint32(0))

	diag.mu.Lock()
	defer diag.mu.Unlock()
	seq := diag.seq + 1
	diag.seq = seq
	binary.NativeEndian.PutUint32(req[8:], seq)
	if err := unix.Sendto(diag.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return PeerSocket{}, fmt.Errorf("sock_diag: %w", err)
	}
	buf := diag.buf
	for {
		n, _, err := unix.Recvfrom(diag.fd, buf, 0)
		if err != nil {
			return PeerSocket{}, fmt.Errorf("sock_diag: %w", err)
		}
		for msg := buf[:n]; len(msg) >= 16; {
			l := int(binary.NativeEndian.Uint32(msg[0:]))
			if l < 16 || l > len(msg) {
				break
			}
			typ, got := binary.NativeEndian.Uint16(msg[4:]), binary.NativeEndian.Uint32(msg[8:])
			body := msg[16:l]
			msg = msg[(l+3)&^3:]
			if got != seq {
				continue // the answer to an earlier request that timed out
			}
			if typ != unix.SOCK_DIAG_BY_FAMILY || len(body) < 72 {
				return PeerSocket{}, ErrNoSocket // NLMSG_ERROR: no such socket (it closed)
			}
			// inet_diag_msg.idiag_state, idiag_uid and idiag_inode. A
			// socket no process holds (closed, reset, or not yet accepted)
			// has no inode; a closed one's time-wait remnant reports uid 0,
			// root's. A listener is what the kernel finds in place of a
			// connection that is gone.
			return PeerSocket{
				UID:   int(binary.NativeEndian.Uint32(body[64:])),
				Open:  binary.NativeEndian.Uint32(body[68:]) != 0 && body[1] != unix.BPF_TCP_LISTEN,
				State: body[1],
			}, nil
		}
	}
}

func putAddr(dst []byte, a netip.Addr, family uint8) {
	if family == unix.AF_INET {
		b := a.Unmap().As4()
		copy(dst, b[:])
		return
	}
	b := a.As16()
	copy(dst, b[:])
}

// sockDiag is the process's one sock_diag socket, used under its mutex.
type sockDiag struct {
	once sync.Once
	err  error
	fd   int
	mu   sync.Mutex
	seq  uint32
	buf  []byte
}

var diag sockDiag

func (d *sockDiag) open() {
	d.fd, d.err = unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if d.err != nil {
		return
	}
	// An answer that never comes must not hold up the accept loop.
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	if d.err = unix.SetsockoptTimeval(d.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); d.err != nil {
		unix.Close(d.fd)
		return
	}
	d.buf = make([]byte, 8192)
}

// HoldsAddress reports whether conn, an accepted TCP connection, is still
// connected to its sender: established, or half-closed by it
// (CLOSE_WAIT), but not closed (a reset, or the reset a newcomer from the
// same address draws). A peer looked up by its address (TCPSocket) is the
// sender only while this holds: once the sender lets its address go,
// another process connecting from it would be found in its place (see
// the daemon's peerOf).
func HoldsAddress(conn net.Conn) (bool, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false, ErrCannotAsk
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false, err
	}
	var info *unix.TCPInfo
	var ierr error
	if err := raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		return false, err
	}
	if ierr != nil {
		return false, ierr
	}
	return info.State == unix.BPF_TCP_ESTABLISHED || info.State == unix.BPF_TCP_CLOSE_WAIT, nil
}

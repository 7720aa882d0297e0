//go:build linux

package probe

import (
	"net"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// enableRxStamps asks the kernel to timestamp every datagram c receives
// (SO_TIMESTAMPNS): the arrival time then does not include the wait for a
// busy scheduler to run the reading goroutine.
func enableRxStamps(c *net.UDPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		ok = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
	})
	return ok
}

// readStamped reads one datagram and its kernel receive time (now when
// the kernel gave none).
func readStamped(c *net.UDPConn, b, oob []byte) (int, netip.AddrPort, time.Time, error) {
	n, from, at, _, err := readKernelStamped(c, b, oob)
	return n, from, at, err
}

// readKernelStamped is readStamped that also says whether the time is the
// kernel's.
func readKernelStamped(c *net.UDPConn, b, oob []byte) (int, netip.AddrPort, time.Time, bool, error) {
	n, oobn, _, from, err := c.ReadMsgUDPAddrPort(b, oob)
	if err != nil {
		return n, from, time.Time{}, false, err
	}
	at, kernel := time.Now(), false
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := *(*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				if k := time.Unix(ts.Unix()); !k.IsZero() && k.Before(at) {
					at, kernel = k, true
				}
			}
		}
	}
	return n, from, at, kernel, nil
}

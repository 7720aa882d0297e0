//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// enableICMPErrors sets IP_RECVERR (and IPV6_RECVERR on an AF_INET6
// socket, which also carries v4-mapped traffic) so that the kernel queues
// every ICMP error for this socket with its type, code, offender and the
// original destination, connected or not.
//
// Side effect callers must know: with IP_RECVERR the kernel also reports
// an ICMP error as a pending socket error on unconnected sockets, so the
// next ReadFrom may return ECONNREFUSED/EHOSTUNREACH once. Treat such a
// read error as "drain the queue with ReadICMPErrors and read again".
func enableICMPErrors(conn *net.UDPConn) bool {
	if conn == nil {
		return false
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			return
		}
		switch domain {
		case unix.AF_INET:
			ok = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1) == nil
		case unix.AF_INET6:
			ok = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1) == nil
			// A dual-stack socket gets ICMPv4 errors for v4-mapped
			// destinations only with IP_RECVERR set as well; an
			// IPV6_V6ONLY socket refuses it, which is fine.
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1)
		}
	})
	return ok
}

// maxICMPErrorsPerRead bounds one drain; the queue itself is bounded by
// the socket's receive buffer.
const maxICMPErrorsPerRead = 4096

// readICMPErrors drains the error queue with recvmsg(MSG_ERRQUEUE |
// MSG_DONTWAIT): it never blocks. Errors that are not ICMP (local errors
// such as EMSGSIZE, timestamps) are dropped.
func readICMPErrors(conn *net.UDPConn) []ICMPError {
	if conn == nil {
		return nil
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var out []ICMPError
	buf := make([]byte, 64) // the returned payload is the original datagram; only its presence matters
	oob := make([]byte, 512)
	_ = rc.Read(func(fd uintptr) bool {
		for range maxICMPErrorsPerRead {
			_, oobn, _, from, err := unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			if err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				return true // EAGAIN: the queue is empty
			}
			if e, ok := parseErrQueue(oob[:oobn], sockaddrToAddrPort(from)); ok {
				out = append(out, e)
			}
		}
		return true
	})
	return out
}

// parseErrQueue reads the IP_RECVERR / IPV6_RECVERR control message of
// one error-queue entry: a struct sock_extended_err followed by the
// offender's sockaddr (SO_EE_OFFENDER).
func parseErrQueue(oob []byte, dest netip.AddrPort) (ICMPError, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return ICMPError{}, false
	}
	for _, m := range msgs {
		if !(m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR) &&
			!(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR) {
			continue
		}
		if e, ok := parseExtendedErr(m.Data, dest); ok {
			return e, true
		}
	}
	return ICMPError{}, false
}

const sizeofSockExtendedErr = int(unsafe.Sizeof(unix.SockExtendedErr{}))

// parseExtendedErr decodes sock_extended_err and the offender address.
func parseExtendedErr(b []byte, dest netip.AddrPort) (ICMPError, bool) {
	if len(b) < sizeofSockExtendedErr {
		return ICMPError{}, false
	}
	origin, typ, code := b[4], b[5], b[6]
	var v6 bool
	switch origin {
	case unix.SO_EE_ORIGIN_ICMP:
	case unix.SO_EE_ORIGIN_ICMP6:
		v6 = true
	default:
		return ICMPError{}, false
	}
	class, ok := classifyICMP(v6, typ, code)
	if !ok {
		return ICMPError{}, false
	}
	return ICMPError{Class: class, From: offender(b[sizeofSockExtendedErr:]), Dest: dest, Type: typ, Code: code}, true
}

// classifyICMP maps an ICMP error to an error class. Fragmentation needed
// / packet too big are path-MTU signals, not reachability, and are skipped.
func classifyICMP(v6 bool, typ, code uint8) (ErrorClass, bool) {
	if !v6 {
		switch typ {
		case 3: // destination unreachable
			switch code {
			case 3: // port unreachable: the host itself answered
				return ClassRefused, true
			case 4: // fragmentation needed
				return "", false
			case 9, 10, 13: // net/host/communication administratively prohibited
				return ClassProhibited, true
			}
			return ClassUnreachable, true
		case 11: // time exceeded: the datagram died on the way (a loop)
			return ClassUnreachable, true
		}
		return "", false
	}
	switch typ {
	case 1: // destination unreachable
		switch code {
		case 4: // port unreachable
			return ClassRefused, true
		case 1, 5, 6: // administratively prohibited, source address failed policy, reject route
			return ClassProhibited, true
		}
		return ClassUnreachable, true
	case 3: // time exceeded
		return ClassUnreachable, true
	}
	return "", false
}

// offender decodes the sockaddr_in / sockaddr_in6 after the struct; the
// family is in host byte order, port and address in network order.
func offender(b []byte) netip.Addr {
	if len(b) < 2 {
		return netip.Addr{}
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= 8 {
			return netip.AddrFrom4([4]byte(b[4:8]))
		}
	case unix.AF_INET6:
		if len(b) >= 24 {
			return netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		}
	}
	return netip.Addr{}
}

func sockaddrToAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

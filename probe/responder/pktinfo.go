package responder

import (
	"net"
	"net/netip"
)

// Answering from the probed address.
//
// A socket bound to all addresses lets the kernel pick each answer's
// source address by route. On a server with several addresses an answer
// to a probe sent to address B may then leave from address A, and a
// client behind NAT drops it (its conntrack entry is for B): the sweep
// would report a blocked return path, or a multi-homed server, that is
// not there. So, when listening on all addresses, each socket reads the
// destination address of every request (IP_PKTINFO / IPV6_PKTINFO) and
// answers from it.
//
// Where the system cannot (see pktinfo_unix.go and pktinfo_other.go), or
// with Config.Listen a specific address (the kernel then answers from
// it anyway), the socket takes the plain path: ReadFrom, WriteTo.

// udpSocket is one port's socket, read and written by its goroutine only.
type udpSocket struct {
	c  *net.UDPConn
	pi *pktinfo // nil: the plain path
	// srcFailed is called when an answer could not be sent from the
	// request's destination address and went out the plain way.
	srcFailed func(dst netip.Addr, err error)
}

// read reads one datagram; dst is the address it was sent to, invalid
// when unknown (the plain path, or no control message came with it).
func (u *udpSocket) read(b []byte) (n int, from netip.AddrPort, dst netip.Addr, err error) {
	if u.pi == nil {
		n, from, err = u.c.ReadFromUDPAddrPort(b)
		return n, from, netip.Addr{}, err
	}
	n, oobn, _, from, err := u.c.ReadMsgUDPAddrPort(b, u.pi.oob)
	if err != nil {
		return n, from, netip.Addr{}, err
	}
	return n, from, u.pi.dst(u.pi.oob[:oobn]), nil
}

// write sends b to to, from dst when dst is usable. Should sending from
// dst fail, the answer goes out the plain way, as it did before this
// existed: the kernel's choice of source is still better than silence.
func (u *udpSocket) write(b []byte, to netip.AddrPort, dst netip.Addr) error {
	if u.pi != nil && answerFrom(dst) {
		_, _, err := u.c.WriteMsgUDPAddrPort(b, u.pi.oobFor(dst), to)
		if err == nil {
			return nil
		}
		if u.srcFailed != nil {
			u.srcFailed(dst, err)
		}
	}
	_, err := u.c.WriteToUDPAddrPort(b, to)
	return err
}

// answerFrom reports whether an answer should name dst as its source.
// Not for multicast or broadcast (never a source), nor link-local IPv6,
// where the client's zone already picks the interface and its address.
func answerFrom(dst netip.Addr) bool {
	return dst.IsValid() && !dst.IsUnspecified() && !dst.IsMulticast() &&
		!dst.IsLinkLocalUnicast() && dst != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// listenAll reports whether the sockets are bound to all addresses.
func (cfg *Config) listenAll() bool {
	if cfg.Listen == "" {
		return true
	}
	a, err := netip.ParseAddr(cfg.Listen)
	return err == nil && a.IsUnspecified()
}

//go:build linux || darwin

package responder

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// pktinfo is one socket's destination-address state. Linux and macOS
// both receive IP_PKTINFO / IPV6_PKTINFO and honour their source address
// on sendmsg; x/net marshals an IPv4 source there only (the BSDs have
// IP_RECVDSTADDR to read it but no IP_PKTINFO to send it).
type pktinfo struct {
	// v4: an AF_INET socket (a host without IPv6). Otherwise the socket
	// is dual-stack AF_INET6 and an IPv4 request's destination comes as
	// an IPv4-mapped address in IPV6_PKTINFO.
	v4  bool
	oob []byte // the receive buffer for control messages
	// Parsed into again and again: their Dst is allocated once.
	cm4 ipv4.ControlMessage
	cm6 ipv6.ControlMessage
	// The control message of the last source answered from: a socket
	// mostly sees one destination address, so marshalling is rare.
	src    netip.Addr
	srcOOB []byte
}

// newPktinfo turns on the destination address of received datagrams.
// An error (the system refuses the option) leaves c on the plain path.
func newPktinfo(c *net.UDPConn) (*pktinfo, error) {
	p := &pktinfo{oob: make([]byte, 128)} // one PKTINFO needs 32 to 40 bytes
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok && la.IP.To4() != nil {
		p.v4 = true
		if err := ipv4.NewPacketConn(c).SetControlMessage(ipv4.FlagDst, true); err != nil {
			return nil, err
		}
		return p, nil
	}
	if err := ipv6.NewPacketConn(c).SetControlMessage(ipv6.FlagDst, true); err != nil {
		return nil, err
	}
	return p, nil
}

// dst is the destination address in oob (IPv4-mapped ones unmapped);
// invalid when there is none.
func (p *pktinfo) dst(oob []byte) netip.Addr {
	var ip net.IP
	if p.v4 {
		clear(p.cm4.Dst) // a message without PKTINFO must not leave the last one
		if p.cm4.Parse(oob) != nil {
			return netip.Addr{}
		}
		ip = p.cm4.Dst
	} else {
		clear(p.cm6.Dst)
		if p.cm6.Parse(oob) != nil {
			return netip.Addr{}
		}
		ip = p.cm6.Dst
	}
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// oobFor is the control message that makes src an answer's source. On a
// dual-stack socket an IPv4 source is sent as IP_PKTINFO too (x/net does
// not marshal IPv4-mapped addresses into IPV6_PKTINFO; Linux takes
// IPPROTO_IP control messages on the IPv4 path of an AF_INET6 socket).
// The interface index stays 0: the route picks the way out.
func (p *pktinfo) oobFor(src netip.Addr) []byte {
	if src == p.src && p.srcOOB != nil {
		return p.srcOOB
	}
	var b []byte
	if src.Is4() {
		b = (&ipv4.ControlMessage{Src: src.AsSlice()}).Marshal()
	} else {
		b = (&ipv6.ControlMessage{Src: src.AsSlice()}).Marshal()
	}
	p.src, p.srcOOB = src, b
	return b
}

package probe

import (
	"net"
	"net/netip"
)

// ICMPError is an ICMP error the OS reported for a UDP datagram this
// process sent: the evidence that tells "closed" (port unreachable: the
// packet reached the host) from "prohibited" (a firewall rejected it) from
// "unreachable" (no route), where plain errno values blur the last two.
type ICMPError struct {
	Class ErrorClass     // ClassRefused, ClassProhibited or ClassUnreachable
	From  netip.Addr     // who sent the ICMP (the target host or a router)
	Dest  netip.AddrPort // the original destination of the datagram
	Type  uint8
	Code  uint8
}

// EnableICMPErrors asks the OS to queue ICMP errors on conn with their
// details (Linux: IP_RECVERR / IPV6_RECVERR). It returns false where the OS
// offers no such queue; callers then classify by errno alone.
func EnableICMPErrors(conn *net.UDPConn) bool { return enableICMPErrors(conn) }

// ReadICMPErrors drains the queued ICMP errors of conn without blocking.
func ReadICMPErrors(conn *net.UDPConn) []ICMPError { return readICMPErrors(conn) }

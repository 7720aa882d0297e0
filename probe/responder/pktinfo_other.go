//go:build !(linux || darwin)

package responder

import (
	"errors"
	"net"
	"net/netip"
)

// pktinfo: not here. Windows has IP_PKTINFO, but x/net's control
// messages are not implemented there; the BSDs read the destination
// (IP_RECVDSTADDR) but cannot send from it the same way. Every socket
// takes the plain path.
type pktinfo struct{ oob []byte }

func newPktinfo(*net.UDPConn) (*pktinfo, error) { return nil, errors.ErrUnsupported }

func (*pktinfo) dst([]byte) netip.Addr { return netip.Addr{} }

func (*pktinfo) oobFor(netip.Addr) []byte { return nil }

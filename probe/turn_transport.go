package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/dtls/v3"
	"github.com/pion/turn/v5"
)

// The client side of a TURN session over UDP, TCP, TLS or DTLS.

// turnDial opens the client side: a UDP socket connected to the server
// (so ICMP port unreachable is an error, not silence), or a TCP/TLS stream
// framed by pion's STUNConn.
func turnDial(ctx context.Context, spec Spec, cfg *Config, tr Transport) (net.PacketConn, netip.AddrPort, error) {
	raddr, err := resolveUDP(ctx, cfg, spec)
	if err != nil {
		return nil, raddr, err
	}
	switch tr {
	case TransportUDP:
		c, err := dialConnectedUDP(raddr)
		if err != nil {
			return nil, raddr, err
		}
		EnableICMPErrors(c)
		return connectedPacketConn{c}, raddr, nil
	case TransportDTLS:
		c, err := dialConnectedUDP(raddr)
		if err != nil {
			return nil, raddr, err
		}
		dc, err := dtls.Client(connectedPacketConn{c}, c.RemoteAddr(), &dtls.Config{
			ServerName: spec.ServerName(), RootCAs: cfg.RootCAs, LoggerFactory: quietLogger{},
		})
		if err != nil {
			_ = c.Close()
			return nil, raddr, err
		}
		if err := dc.HandshakeContext(ctx); err != nil {
			_ = dc.Close()
			return nil, raddr, err
		}
		return dtlsPacketConn{dc}, raddr, nil
	case TransportTCP, TransportTLS:
		c, err := dialStream(ctx, spec, cfg, tr)
		if err != nil {
			return nil, raddr, err
		}
		return turn.NewSTUNConn(c), raddr, nil
	}
	return nil, raddr, fmt.Errorf("%w %q for turn (use udp, tcp, tls or dtls)", ErrTransport, tr)
}

// dtlsPacketConn carries one STUN message or ChannelData per DTLS record.
type dtlsPacketConn struct{ *dtls.Conn }

func (c dtlsPacketConn) WriteTo(b []byte, _ net.Addr) (int, error) { return c.Write(b) }

func (c dtlsPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.Read(b)
	return n, c.RemoteAddr(), err
}

// connectedPacketConn lets pion's WriteTo use a connected UDP socket.
type connectedPacketConn struct{ *net.UDPConn }

func (c connectedPacketConn) WriteTo(b []byte, _ net.Addr) (int, error) { return c.Write(b) }

func (c connectedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.Read(b)
	if err != nil {
		for _, e := range ReadICMPErrors(c.UDPConn) {
			return n, nil, &icmpErr{e}
		}
	}
	return n, c.RemoteAddr(), err
}

// dialConnectedUDP is a UDP socket connected to raddr, bound to the local
// address the route to raddr leaves from.
func dialConnectedUDP(raddr netip.AddrPort) (*net.UDPConn, error) {
	local, err := localIPFor(raddr)
	if err != nil {
		return nil, err
	}
	return net.DialUDP(udpNet(raddr), &net.UDPAddr{IP: local.AsSlice()}, net.UDPAddrFromAddrPort(raddr))
}

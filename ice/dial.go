package ice

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"

	"github.com/ucprobe/ucprobe/internal/closeset"
	"github.com/ucprobe/ucprobe/probe"
)

// boundedNet is the OS network as pion sees it (stdnet) with dials and
// name lookups that end. Pion dials TURN over TCP and TLS with
// transport.Net's DialTCP, which takes no context: a TURN server whose SYN
// is dropped held the dial for the kernel's SYN retries (about 130 s), and
// Agent.Close waits for gathering to end. Here every dial ends at
// timeout, or at once when ctx ends (the agent is closing or the check's
// deadline came).
//
// When ctx's deadline ends the agent, boundedNet also closes the agent's
// TURN transports (cut). pion's TURN client creates a permission inside the
// agent's task loop and waits for its round trip; Agent.Close waits for
// that loop. Over a slow path that held the teardown past the run's
// deadline. With its transport closed, the transaction fails at its next
// retransmission and the loop is free. The TURN allocations are then
// abandoned, not released: the server expires them after their lifetime.
type boundedNet struct {
	*stdnet.Net
	ctx      context.Context
	timeout  time.Duration
	resolver probe.Resolver

	relays closeset.Set // TURN transports, closed by cut
	onCut  func()
	// stopWatch stops the deadline watch; watchDone closes when atEnd ran.
	stopWatch func() bool
	watchDone chan struct{}
}

var _ transport.Net = (*boundedNet)(nil)

// newBoundedNet: r looks names up (nil: the system's resolver); with
// cutAtDeadline, ctx's deadline cuts the agent: onCut runs, then its TURN
// transports close.
func newBoundedNet(ctx context.Context, timeout time.Duration, r probe.Resolver, cutAtDeadline bool, onCut func()) (*boundedNet, error) {
	sn, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = probe.ResolverOf(nil)
	}
	n := &boundedNet{Net: sn, ctx: ctx, timeout: timeout, resolver: r, onCut: onCut, watchDone: make(chan struct{})}
	if !cutAtDeadline {
		close(n.watchDone)
		n.stopWatch = func() bool { return false }
		return n, nil
	}
	n.stopWatch = context.AfterFunc(ctx, n.atEnd)
	return n, nil
}

// atEnd runs once ctx ended: the deadline (not a cancel) cuts the agent.
func (n *boundedNet) atEnd() {
	defer close(n.watchDone)
	if errors.Is(n.ctx.Err(), context.DeadlineExceeded) {
		if n.onCut != nil {
			n.onCut()
		}
		n.cut()
	}
}

// endWatch ends the deadline watch; call it once ctx ended, before closing
// the agent. When the watch had not started yet (stop still wins just
// after ctx ends), endWatch does its work itself, so a deadline always
// cuts.
func (n *boundedNet) endWatch() {
	if n.stopWatch() {
		n.atEnd()
		return
	}
	<-n.watchDone
}

// track keeps a TURN transport for cut; one opened after the cut closes
// at once.
func (n *boundedNet) track(c io.Closer) { n.relays.Add(c) }

func (n *boundedNet) cut() { n.relays.Close() }

// ListenPacket opens the socket of a TURN client over UDP.
func (n *boundedNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err == nil {
		n.track(c)
	}
	return c, err
}

// DialUDP opens the socket of a TURN client over DTLS.
func (n *boundedNet) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.DialUDP(network, laddr, raddr)
	if err == nil {
		n.track(c)
	}
	return c, err
}

func (n *boundedNet) dialer(laddr net.Addr) *net.Dialer {
	d := &net.Dialer{Timeout: n.timeout}
	if laddr != nil {
		d.LocalAddr = laddr
	}
	return d
}

// Dial connects to address within the bound.
func (n *boundedNet) Dial(network, address string) (net.Conn, error) {
	c, err := n.dialer(nil).DialContext(n.ctx, network, address)
	if err == nil {
		n.track(c)
	}
	return c, err
}

// DialTCP connects to raddr within the bound.
func (n *boundedNet) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	if raddr == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("missing address")}
	}
	var la net.Addr
	if laddr != nil {
		la = laddr
	}
	c, err := n.dialer(la).DialContext(n.ctx, network, raddr.String())
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		_ = c.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("not a TCP connection")}
	}
	n.track(tc)
	return tc, nil
}

// ResolveTCPAddr looks names up within the bound.
func (n *boundedNet) ResolveTCPAddr(network, address string) (*net.TCPAddr, error) {
	ap, err := n.resolve(network, address)
	if err != nil {
		return nil, err
	}
	return net.TCPAddrFromAddrPort(ap), nil
}

// ResolveUDPAddr looks names up within the bound.
func (n *boundedNet) ResolveUDPAddr(network, address string) (*net.UDPAddr, error) {
	ap, err := n.resolve(network, address)
	if err != nil {
		return nil, err
	}
	return net.UDPAddrFromAddrPort(ap), nil
}

// resolve: an address literal needs no lookup; a name is looked up with
// the bound, IPv4 first unless the network says otherwise (as
// net.ResolveTCPAddr does).
func (n *boundedNet) resolve(network, address string) (netip.AddrPort, error) {
	host, ps, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return netip.AddrPort{}, &net.AddrError{Err: "invalid port", Addr: address}
	}
	var want byte
	if network != "" {
		want = network[len(network)-1]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.timeout)
	defer cancel()
	ipnet := "ip"
	switch want {
	case '4':
		ipnet = "ip4"
	case '6':
		ipnet = "ip6"
	}
	addrs, err := n.resolver.LookupNetIP(ctx, ipnet, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
		}
	}
	if len(addrs) == 0 {
		return netip.AddrPort{}, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/turn/v5"
)

// The relay data path: the peer the echo starts from, and the echo itself.

// turnPeerSource is what a second allocation (the relay peer) needs.
type turnPeerSource struct {
	spec       Spec
	cfg        *Config
	user, pass string
}

// Relay peers: where the echoed datagrams start and end.
const (
	// TURNPeerUDP is a second local UDP socket sending to the relayed
	// address (TURN over UDP and DTLS).
	TURNPeerUDP = "udp-socket"
	// TURNPeerRelay is a second allocation on the same server over the
	// same transport: relay to relay inside the server's network, so the
	// path needs no UDP from this client (TURN over TCP and TLS).
	TURNPeerRelay = "relay"
)

// turnEchoPeer sends datagrams to the relayed address and reads the echo.
type turnEchoPeer struct {
	conn net.PacketConn
	addr *net.UDPAddr // where its datagrams come from, as the relay sees them
	// permit gives the peer's own permission towards the relayed address
	// (a relay peer); nil for a socket.
	permit func(net.Addr) error
	close  func()
}

// turnUDPPeer is a second local UDP socket; the relay sees it at our
// mapped IP (the local one without a mapped address).
func turnUDPPeer(det *TURNDetails) (*turnEchoPeer, error) {
	mapped, err := netip.ParseAddrPort(det.MappedAddr)
	if err != nil {
		// Without the server's view of us we do not know which address the
		// peer's datagrams will come from; use the local one.
		mapped, _ = netip.ParseAddrPort(det.LocalAddr)
	}
	peerIP := mapped.Addr()
	if !peerIP.IsValid() {
		return nil, fmt.Errorf("%w: no address for the local peer", ErrRelay)
	}
	peerLocal := peerIP
	if lap, err := netip.ParseAddrPort(det.LocalAddr); err == nil {
		peerLocal = lap.Addr()
	}
	c, err := net.ListenUDP(udpNet(netip.AddrPortFrom(peerLocal, 0)), &net.UDPAddr{IP: peerLocal.AsSlice()})
	if err != nil {
		return nil, err
	}
	return &turnEchoPeer{
		conn:  c,
		addr:  &net.UDPAddr{IP: peerIP.AsSlice(), Port: c.LocalAddr().(*net.UDPAddr).Port},
		close: func() { _ = c.Close() },
	}, nil
}

// turnRelayPeer allocates a second relay on the same server over the same
// transport. Its errors carry the server's code and reason.
func turnRelayPeer(ctx context.Context, src turnPeerSource, tr Transport) (*turnEchoPeer, error) {
	sess, err := turnOpen(ctx, src.spec, src.cfg, tr, src.user, src.pass)
	if sess == nil {
		return nil, err
	}
	if err != nil {
		sess.close()
		return nil, err
	}
	pdet := &TURNDetails{Server: sess.raddr.String(), Steps: map[string]float64{}, Stage: TURNStageAllocate}
	relay, err := sess.client.AllocateWithContext(sess.ctx)
	if err != nil {
		sess.rec.fillFromLast(pdet)
		sess.rec.flush(pdet)
		err = turnErr(sess.ctx, err, pdet, tr)
		sess.close()
		return nil, err
	}
	addr, ok := relay.LocalAddr().(*net.UDPAddr)
	if !ok {
		_ = relay.Close()
		sess.close()
		return nil, fmt.Errorf("%w: relayed address %v is not UDP", ErrRelay, relay.LocalAddr())
	}
	return &turnEchoPeer{
		conn:   relay,
		addr:   addr,
		permit: func(to net.Addr) error { return sess.client.CreatePermission(to) },
		close:  func() { _ = relay.Close(); sess.close() },
	}, nil
}

// turnRelay proves the data path: datagrams from a peer go to the
// relayed address, come to us, are sent back through the relay, and are
// counted where they arrive. Over TCP and TLS the peer is a second
// allocation (relay to relay: no UDP from this client, which is often
// blocked where TURN over TCP is used); over UDP and DTLS a second local
// UDP socket. Permissions are created for the peer (and, for a relay
// peer, on it for our relayed address).
func turnRelay(ctx context.Context, src turnPeerSource, client *turn.Client, relay net.PacketConn, det *TURNDetails, tr Transport, rec *recConn) error {
	relayAddr, err := net.ResolveUDPAddr("udp", det.RelayedAddr)
	if err != nil {
		return err
	}
	rec.flush(det) // the server answered: turnErr must not say it did not
	// Echo what arrives on the relay back to where it came from.
	stop := context.AfterFunc(ctx, func() { _ = relay.SetReadDeadline(time.Now()) })
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for i := 0; i < 8*TURNRelayCount; i++ { // bounded: two peers, a few strays at most
			n, from, err := relay.ReadFrom(buf)
			if err != nil {
				return
			}
			if _, err := relay.WriteTo(buf[:n], from); err != nil {
				return
			}
		}
	}()
	defer func() { _ = relay.SetReadDeadline(time.Now()); wg.Wait() }()

	det.Stage = TURNStagePermission
	if tr == TransportTCP || tr == TransportTLS {
		det.RelayPeer = TURNPeerRelay
		start := time.Now()
		peer, err := turnRelayPeer(ctx, src, tr)
		det.Steps["peer_allocate"] = ms(time.Since(start))
		if err == nil {
			det.PeerRelayedAddr = peer.addr.String()
			// The server's codes for the relay peer stay out of ours.
			err = turnEcho(ctx, clockOf(src.cfg), client, peer, relayAddr, det, &TURNDetails{Server: det.Server, Answers: 1, Stage: TURNStagePermission}, tr)
			peer.close()
			if err == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			rec.flush(det)
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) && !errors.Is(cause, context.Canceled) {
				return cause // our own connection failed
			}
			if det.PeerRelayedAddr == "" {
				return fmt.Errorf("%w: TURN server %s did not complete a second allocation (the relay peer) before the run's deadline", ErrCutAfterAnswer, det.Server)
			}
			return err
		}
		// The server refused a second allocation (a quota), a permission
		// for its own relayed address (denied-peer-ip), or relay to relay
		// needs a hairpin it lacks: fall back to a UDP socket, which
		// proves the path where this client's UDP passes.
		det.RelayPeerError = err.Error()
		det.RelaySent, det.RelayReceived, det.Stage = 0, 0, TURNStagePermission
	}
	det.RelayPeer = TURNPeerUDP
	peer, err := turnUDPPeer(det)
	if err != nil {
		return err
	}
	defer peer.close()
	if err := turnEcho(ctx, clockOf(src.cfg), client, peer, relayAddr, det, det, tr); err != nil {
		if det.RelayPeerError != "" {
			return fmt.Errorf("%w (relay to relay before: %s)", err, det.RelayPeerError)
		}
		return err
	}
	return nil
}

// turnEcho creates the permissions (ours for the peer, and for a relay
// peer its own for our relayed address) and sends datagrams from the peer
// to relayAddr; our relay echoes them. Error codes of the server go to
// errDet.
func turnEcho(ctx context.Context, clock *Clock, client *turn.Client, peer *turnEchoPeer, relayAddr *net.UDPAddr, det, errDet *TURNDetails, tr Transport) error {
	stop := context.AfterFunc(ctx, func() { _ = peer.conn.SetReadDeadline(time.Now()) })
	defer stop()
	if err := turnPermit(ctx, client, peer, relayAddr, det, errDet, tr); err != nil {
		return err
	}
	det.Stage = TURNStageRelay
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	e := &echoCollector{conn: peer.conn, deadline: deadline, got: map[byte]bool{}, first: time.Now(), det: det}
	var last time.Time
	for i := 0; i < TURNRelayCount && ctx.Err() == nil; i++ {
		// 20 bytes, not 4: pion's STUNConn holds a ChannelData frame
		// shorter than 9 bytes back until more stream data arrives.
		if _, err := peer.conn.WriteTo(relayPayload(i), relayAddr); err != nil {
			if ctx.Err() != nil {
				break // the deadline closed the peer under us: a cut, judged below
			}
			return fmt.Errorf("%w: peer send: %w", ErrRelay, err)
		}
		det.RelaySent++
		last = time.Now()
		// Wait a little for the echo before the next one (pacing: one
		// RTO of the path, 200 ms at most).
		e.collect(last.Add(min(200*time.Millisecond, clock.RTO())), byte(i))
	}
	// Late echoes count: wait for the rest, up to the run's UDP silence
	// bound after the last datagram while none came back (a slow path
	// answers late, not never), two RTOs once some did (the rest is loss).
	if len(e.got) < TURNRelayCount && ctx.Err() == nil {
		wait := clock.UDPSilence()
		if len(e.got) > 0 {
			wait = 2 * clock.RTO()
		}
		e.collect(last.Add(wait), 0xff)
	}
	det.RelayReceived = len(e.got)
	if det.RelayReceived == 0 && (ctx.Err() != nil || !time.Now().Before(deadline)) {
		return fmt.Errorf("%w: the run's deadline ended the relay echo after %d %s (allocation and permission worked)",
			ErrCutAfterAnswer, det.RelaySent, plural(det.RelaySent, "datagram", "datagrams"))
	}
	if det.RelayReceived == 0 {
		from := "a local UDP socket"
		if peer.permit != nil {
			from = "a second allocation (relayed address " + peer.addr.String() + ")"
		}
		return fmt.Errorf("%w: allocation and permission worked, but none of %d datagrams sent from %s to the relayed address %s came back", ErrRelay, det.RelaySent, from, det.RelayedAddr)
	}
	det.Stage = TURNStageDone
	return nil
}

// turnPermit creates the permission for the peer on our allocation (and,
// for a relay peer, on its allocation for our relayed address).
func turnPermit(ctx context.Context, client *turn.Client, peer *turnEchoPeer, relayAddr *net.UDPAddr, det, errDet *TURNDetails, tr Transport) error {
	det.Stage = TURNStagePermission
	start := time.Now()
	err := client.CreatePermission(peer.addr)
	if err == nil && peer.permit != nil {
		if err = peer.permit(relayAddr); err != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: the relay peer's permission for %s failed: %w", ErrRelay, relayAddr, turnErr(ctx, err, errDet, tr))
		}
	}
	det.Steps["permission"] = ms(time.Since(start))
	if err != nil && !errors.Is(err, ErrRelay) {
		return turnErr(ctx, err, errDet, tr)
	}
	return err
}

// echoCollector reads the echoes of the relay check on the peer.
type echoCollector struct {
	conn     net.PacketConn
	deadline time.Time
	got      map[byte]bool
	first    time.Time
	det      *TURNDetails
	buf      [1500]byte
}

// collect reads echoes until want came back, all did, or until passed.
func (e *echoCollector) collect(until time.Time, want byte) {
	_ = e.conn.SetReadDeadline(minTime(until, e.deadline))
	for {
		n, _, err := e.conn.ReadFrom(e.buf[:])
		if err != nil {
			return
		}
		p0 := relayPayload(0)
		if n == len(p0) && string(e.buf[:n-1]) == string(p0[:n-1]) && !e.got[e.buf[n-1]] {
			if len(e.got) == 0 {
				e.det.Steps["first_relay"] = ms(time.Since(e.first))
			}
			e.got[e.buf[n-1]] = true
		}
		if e.got[want] || len(e.got) == TURNRelayCount {
			return
		}
	}
}

func relayPayload(i int) []byte { return append([]byte("ucprobe-relay-check-"), byte(i)) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

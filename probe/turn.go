package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// TURNDetails is the evidence of a TURN allocation and its relayed data path.
type TURNDetails struct {
	Server      string `json:"server"`
	Credentials string `json:"credentials"` // "long-term", "rest" or "none"; never the secret
	// Username is the TURN user name sent (REST: "<expiry>:<user>"); it is
	// not secret, and a wrong one is the usual auth failure.
	Username    string `json:"username,omitempty"`
	Realm       string `json:"realm,omitempty"`
	LocalAddr   string `json:"local_addr,omitempty"`
	RelayedAddr string `json:"relayed_addr,omitempty"`
	MappedAddr  string `json:"mapped_addr,omitempty"`
	LifetimeS   int    `json:"lifetime_s,omitempty"`
	Software    string `json:"software,omitempty"`
	// Steps are per-step timings in ms: connect, challenge (first 401
	// round trip), allocate, peer_allocate (the relay peer's connect and
	// allocate), permission, first_relay.
	Steps map[string]float64 `json:"steps_ms,omitempty"`
	// RelayPeer is where the echoed datagrams start and end: "udp-socket"
	// (a second local UDP socket; TURN over UDP and DTLS) or "relay" (a
	// second allocation over the same transport; TURN over TCP and TLS).
	RelayPeer string `json:"relay_peer,omitempty"`
	// PeerRelayedAddr is the relay peer's relayed address.
	PeerRelayedAddr string `json:"peer_relayed_addr,omitempty"`
	// RelayPeerError says why the relay peer failed (no second allocation,
	// its permission refused, or nothing came back relay to relay); the
	// check then used a UDP socket.
	RelayPeerError string `json:"relay_peer_error,omitempty"`
	// RelaySent and RelayReceived count datagrams sent through the relay
	// from the peer and back.
	RelaySent     int    `json:"relay_sent"`
	RelayReceived int    `json:"relay_received"`
	ErrorCode     int    `json:"error_code,omitempty"`
	ErrorReason   string `json:"error_reason,omitempty"`
	// Answers counts STUN messages from the server; NotSTUN datagrams or
	// frames from it that were not STUN (a wrong service on the port).
	Answers int `json:"answers"`
	NotSTUN int `json:"not_stun,omitempty"`
	// Stage is how far the check got: connect, allocate, permission, relay, done.
	Stage string `json:"stage"`
	// NAT is the mapping seen through the relay (TURN over UDP with
	// credentials; nat_relay.go).
	NAT *NATInfo `json:"nat,omitempty"`
}

// TURN stages.
const (
	TURNStageConnect    = "connect"
	TURNStageAllocate   = "allocate"
	TURNStagePermission = "permission"
	TURNStageRelay      = "relay"
	TURNStageDone       = "done"
)

// TURNRTO is pion's first retransmission timeout for TURN requests over
// UDP (it doubles; the context bounds the whole).
var TURNRTO = 100 * time.Millisecond

// TURNRelayCount is how many datagrams are sent through the relay.
const TURNRelayCount = 5

// restTTL is the validity of TURN REST credentials we derive.
const restTTL = 10 * time.Minute

// ErrRelay is the class of data-path failures after a good allocation.
var ErrRelay = errors.New("relay data path")

// ErrCutAfterAnswer: the run's deadline ended a check after its server had
// answered; what was not finished is unproven, not failed.
var ErrCutAfterAnswer = errors.New("cut short after the server answered")

// TURN allocates a relay over the spec's transport (udp when not set),
// creates a permission and proves the data path: datagrams from a peer
// (over TCP/TLS a second allocation, otherwise a second local UDP socket)
// go to the relayed address, come to us as Data, are sent back through the
// relay, and are counted where they arrive.
func TURN(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	if res.Transport == "" {
		res.Transport = TransportUDP
	}
	dst := net.JoinHostPort(spec.DialHost(), strconv.Itoa(spec.Port))
	det := &TURNDetails{Server: dst, Steps: map[string]float64{}, Stage: TURNStageConnect}
	err := turnCheck(ctx, spec, cfg, res.Transport, det)
	if det.ErrorCode == int(stun.CodeAllocMismatch) && ctx.Err() == nil {
		// 437: the server still holds an allocation for this 5-tuple (a
		// reused local port). RFC 5766 section 6.4: retry from another one.
		det = &TURNDetails{Server: dst, Steps: map[string]float64{}, Stage: TURNStageConnect}
		err = turnCheck(ctx, spec, cfg, res.Transport, det)
	}
	res.Details.TURN = det
	if err == nil && res.Transport == TransportUDP {
		det.NAT = MeasureRelayNAT(ctx, spec, cfg)
	}
	if errors.Is(err, ErrCutAfterAnswer) {
		// The server answered: reachable, allocation works. A slow path
		// that the deadline cut is no block: a warning-less partial result.
		res.Status, res.Class, res.Error = StatusWarn, ClassCanceled, err.Error()
		return res
	}
	if err != nil {
		res.Fail(turnClass(err, det), err)
		if det.Credentials == "none" && res.Class == ClassAuth {
			// The server answered (a 401 challenge): it is reachable, but
			// without credentials the relay could not be tested.
			res.Status = StatusWarn
		}
	}
	return res
}

func turnClass(err error, det *TURNDetails) ErrorClass {
	if det.Answers == 0 && det.NotSTUN > 0 {
		return ClassProtocol
	}
	return stunClass(err)
}

// turnUserPass derives the user name and password to send, and what kind
// of credentials they are ("rest", "long-term" or "none").
func turnUserPass(cfg *Config) (user, pass, kind string, err error) {
	user, pass = cfg.TURN.Username, cfg.TURN.Password.Reveal()
	switch {
	case cfg.TURN.SharedSecret != "":
		u := user
		if u == "" {
			u = "ucprobe"
		}
		user, pass, err = turn.GenerateLongTermTURNRESTCredentials(cfg.TURN.SharedSecret.Reveal(), u, restTTL)
		return user, pass, "rest", err
	case user != "":
		return user, pass, "long-term", nil
	}
	return user, pass, "none", nil
}

func turnCheck(ctx context.Context, spec Spec, cfg *Config, tr Transport, det *TURNDetails) error {
	user, pass, kind, err := turnUserPass(cfg)
	det.Credentials = kind
	if err != nil {
		return err
	}
	det.Username = user

	start := time.Now()
	sess, err := turnOpen(ctx, spec, cfg, tr, user, pass)
	det.Steps["connect"] = ms(time.Since(start))
	if sess == nil {
		return err
	}
	defer func() { sess.close(); sess.rec.flush(det) }()
	det.LocalAddr = sess.rec.LocalAddr().String()
	if err != nil {
		return err
	}
	ctx, client, rec, raddr := sess.ctx, sess.client, sess.rec, sess.raddr

	det.Stage = TURNStageAllocate
	if det.Credentials == "none" {
		return turnUnauthenticated(ctx, client, raddr, det, rec)
	}
	start = time.Now()
	relay, err := client.AllocateWithContext(ctx)
	det.Steps["allocate"] = ms(time.Since(start))
	rec.fillFromLast(det)
	if c := rec.challengeRTT(); c > 0 {
		det.Steps["challenge"] = ms(c)
	}
	if err != nil {
		rec.flush(det)
		return turnErr(ctx, err, det, tr)
	}
	defer relay.Close()
	det.RelayedAddr = relay.LocalAddr().String()
	return turnRelay(ctx, turnPeerSource{spec, cfg, user, pass}, client, relay, det, tr, rec)
}

// turnSession is one connection to the TURN server with pion's client on
// it. Its ctx ends with the check's or on a fatal read error; either
// closes the client and the connection, which ends every pending
// transaction (this bounds the calls of pion that take no context, such as
// CreatePermission).
type turnSession struct {
	ctx    context.Context
	client *turn.Client
	rec    *recConn
	raddr  netip.AddrPort
	close  func()
}

// turnOpen dials the server and starts a client. It returns a session
// (to close) whenever the connection was made, also with an error.
func turnOpen(ctx context.Context, spec Spec, cfg *Config, tr Transport, user, pass string) (*turnSession, error) {
	base, raddr, err := turnDial(ctx, spec, cfg, tr)
	if err != nil {
		return nil, err
	}
	rec := &recConn{PacketConn: base, failed: make(chan struct{})}
	// Fail fast on a fatal read error (ICMP port unreachable on the
	// connected socket, a closed stream): pion's read loop stops on it and
	// its transactions would otherwise wait for their retransmissions.
	sctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-rec.failed:
			cancel(rec.readErr())
		case <-sctx.Done():
		}
	}()
	s := &turnSession{ctx: sctx, rec: rec, raddr: raddr, close: func() { cancel(nil); _ = rec.Close() }}
	go rec.silenceWatch(sctx, clockOf(cfg), raddr, tr)
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: raddr.String(), TURNServerAddr: raddr.String(),
		Conn: rec, Username: user, Password: pass, RTO: max(TURNRTO, clockOf(cfg).RTO()),
		Software: "ucprobe", LoggerFactory: quietLogger{},
	})
	if err != nil {
		return s, err
	}
	stop := context.AfterFunc(sctx, func() { client.Close(); _ = rec.Close() })
	s.client = client
	s.close = func() { client.Close(); stop(); cancel(nil); _ = rec.Close() }
	return s, client.Listen()
}

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

// turnUnauthenticated sends one Allocate without credentials: a 401 with
// a realm proves a TURN server answers, nothing more can be tested.
func turnUnauthenticated(ctx context.Context, client *turn.Client, raddr netip.AddrPort, det *TURNDetails, rec *recConn) error {
	msg := stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest),
		turnRequestedUDP{}, stun.Fingerprint)
	start := time.Now()
	r, err := client.PerformTransactionWithContext(msg, net.UDPAddrFromAddrPort(raddr), false, ctx)
	if err != nil {
		rec.flush(det)
		return turnErr(ctx, err, det, "")
	}
	det.Steps["challenge"] = ms(time.Since(start))
	return turnReadChallenge(r.Msg, det)
}

// turnRequestedUDP is REQUESTED-TRANSPORT UDP (RFC 5766 section 14.7).
type turnRequestedUDP struct{}

func (turnRequestedUDP) AddTo(m *stun.Message) error {
	m.Add(stun.AttrRequestedTransport, []byte{17, 0, 0, 0})
	return nil
}

// turnErr turns a pion error into the check's error, with the server's
// code and reason when it sent one.
func turnErr(ctx context.Context, err error, det *TURNDetails, tr Transport) error {
	var te *stun.TurnError
	if errors.As(err, &te) {
		det.ErrorCode, det.ErrorReason = int(te.ErrorCodeAttr.Code), string(te.ErrorCodeAttr.Reason)
		if det.ErrorCode == int(stun.CodeUnauthorized) || det.ErrorCode == int(stun.CodeWrongCredentials) {
			return fmt.Errorf("TURN server rejected the credentials of user %q: %d %s: %w", det.Username, det.ErrorCode, det.ErrorReason, err)
		}
		return fmt.Errorf("TURN server answered %d %s: %w", det.ErrorCode, det.ErrorReason, err)
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if det.ErrorCode != 0 && det.ErrorCode != int(stun.CodeUnauthorized) {
		// An error response pion could not use (no NONCE/REALM).
		return fmt.Errorf("%w %d %s", ErrSTUNError, det.ErrorCode, det.ErrorReason)
	}
	if det.Answers == 0 && det.NotSTUN > 0 {
		return fmt.Errorf("%w: %d %s from %s", ErrNotSTUN, det.NotSTUN, plural(det.NotSTUN, "answer", "answers"), det.Server)
	}
	if det.Answers == 0 && ctx.Err() != nil {
		return fmt.Errorf("%w from TURN server %s over %s", ErrNoAnswer, det.Server, orUDP(tr))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("TURN server %s stopped answering at stage %s: %w", det.Server, det.Stage, ctx.Err())
	}
	return err
}

func orUDP(t Transport) Transport {
	if t == "" {
		return TransportUDP
	}
	return t
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

	det.Stage = TURNStagePermission
	start := time.Now()
	err := client.CreatePermission(peer.addr)
	if err == nil && peer.permit != nil {
		if err = peer.permit(relayAddr); err != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w: the relay peer's permission for %s failed: %w", ErrRelay, relayAddr, turnErr(ctx, err, errDet, tr))
		}
	}
	det.Steps["permission"] = ms(time.Since(start))
	if err != nil {
		if errors.Is(err, ErrRelay) {
			return err
		}
		return turnErr(ctx, err, errDet, tr)
	}

	det.Stage = TURNStageRelay
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	got := map[byte]bool{}
	buf := make([]byte, 1500)
	first := time.Now()
	collect := func(until time.Time, want byte) {
		_ = peer.conn.SetReadDeadline(minTime(until, deadline))
		for {
			n, _, err := peer.conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if n == len(relayPayload(0)) && string(buf[:n-1]) == string(relayPayload(0)[:n-1]) && !got[buf[n-1]] {
				if len(got) == 0 {
					det.Steps["first_relay"] = ms(time.Since(first))
				}
				got[buf[n-1]] = true
			}
			if got[want] || len(got) == TURNRelayCount {
				return
			}
		}
	}
	var last time.Time
	for i := 0; i < TURNRelayCount && ctx.Err() == nil; i++ {
		// 20 bytes, not 4: pion's STUNConn holds a ChannelData frame
		// shorter than 9 bytes back until more stream data arrives.
		payload := relayPayload(i)
		if _, err := peer.conn.WriteTo(payload, relayAddr); err != nil {
			return fmt.Errorf("%w: peer send: %w", ErrRelay, err)
		}
		det.RelaySent++
		last = time.Now()
		// Wait a little for the echo before the next one (pacing: one
		// RTO of the path, 200 ms at most).
		collect(last.Add(min(200*time.Millisecond, clock.RTO())), byte(i))
	}
	// Late echoes count: wait for the rest, up to the run's UDP silence
	// bound after the last datagram while none came back (a slow path
	// answers late, not never), two RTOs once some did (the rest is loss).
	if len(got) < TURNRelayCount && ctx.Err() == nil {
		wait := clock.UDPSilence()
		if len(got) > 0 {
			wait = 2 * clock.RTO()
		}
		collect(last.Add(wait), 0xff)
	}
	det.RelayReceived = len(got)
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

func relayPayload(i int) []byte { return append([]byte("ucprobe-relay-check-"), byte(i)) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// turnDial opens the client side: a UDP socket connected to the server
// (so ICMP port unreachable is an error, not silence), or a TCP/TLS stream
// framed by pion's STUNConn.
func turnDial(ctx context.Context, spec Spec, cfg *Config, tr Transport) (net.PacketConn, netip.AddrPort, error) {
	raddr, err := resolveUDP(ctx, spec)
	if err != nil {
		return nil, raddr, err
	}
	switch tr {
	case TransportUDP:
		local, err := localIPFor(raddr)
		if err != nil {
			return nil, raddr, err
		}
		c, err := net.DialUDP(udpNet(raddr), &net.UDPAddr{IP: local.AsSlice()}, net.UDPAddrFromAddrPort(raddr))
		if err != nil {
			return nil, raddr, err
		}
		EnableICMPErrors(c)
		return connectedPacketConn{c}, raddr, nil
	case TransportDTLS:
		local, err := localIPFor(raddr)
		if err != nil {
			return nil, raddr, err
		}
		c, err := net.DialUDP(udpNet(raddr), &net.UDPAddr{IP: local.AsSlice()}, net.UDPAddrFromAddrPort(raddr))
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

// recConn records what the server sent, for evidence pion does not
// expose: the error code of any response, the XOR-MAPPED-ADDRESS, LIFETIME
// and SOFTWARE of the Allocate success, the time of the first answer, and
// datagrams that are not STUN at all.
type recConn struct {
	net.PacketConn

	mu        sync.Mutex
	firstSent time.Time
	firstRecv time.Time
	last      *stun.Message // last Allocate response
	err       error
	answers   int
	notSTUN   int
	failed    chan struct{}
	closeOnce sync.Once
	failOnce  sync.Once
}

func (r *recConn) WriteTo(b []byte, to net.Addr) (int, error) {
	r.mu.Lock()
	if r.firstSent.IsZero() {
		r.firstSent = time.Now()
	}
	r.mu.Unlock()
	return r.PacketConn.WriteTo(b, to)
}

func (r *recConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := r.PacketConn.ReadFrom(b)
		if err != nil {
			r.fail(err)
			return n, from, err
		}
		m, channelData := turnDatagram(b[:n])
		if m == nil && !channelData {
			// pion stops its read loop on what it cannot parse; a server
			// that never spoke STUN is the wrong service: fail now.
			r.mu.Lock()
			r.notSTUN++
			wrong := r.answers == 0
			r.mu.Unlock()
			if wrong {
				r.fail(fmt.Errorf("%w (%d bytes from %s)", ErrNotSTUN, n, from))
			}
			continue
		}
		if m != nil {
			{
				r.mu.Lock()
				r.answers++
				if r.firstRecv.IsZero() {
					r.firstRecv = time.Now()
				}
				if m.Type.Method == stun.MethodAllocate || m.Type.Class == stun.ClassErrorResponse {
					r.last = m
				}
				r.mu.Unlock()
			}
		}
		return n, from, nil
	}
}

func (r *recConn) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.failOnce.Do(func() { close(r.failed) })
}

// flush copies the counters into det once the check is over.
func (r *recConn) flush(det *TURNDetails) {
	r.mu.Lock()
	defer r.mu.Unlock()
	det.Answers, det.NotSTUN = r.answers, r.notSTUN
}

// silenceWatch fails the session when nothing at all came back within the
// run's UDP silence bound from the first request (the bound follows the
// round trips measured meanwhile). Any answer ends the watch: later
// slowness is the check's to measure, not a block. It returns with ctx.
func (r *recConn) silenceWatch(ctx context.Context, clock *Clock, raddr netip.AddrPort, tr Transport) {
	// Look again at least every RTO: round trips measured meanwhile
	// (a TCP handshake elsewhere in the run) shorten the bound.
	t := time.NewTimer(clock.RTO())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		sent, answered := r.firstSent, !r.firstRecv.IsZero() || r.notSTUN > 0
		r.mu.Unlock()
		if answered {
			observeFirst(r, clock, raddr)
			return
		}
		if !sent.IsZero() {
			if left := time.Until(sent.Add(clock.UDPSilence())); left > 0 {
				t.Reset(min(left, clock.RTO()))
				continue
			}
			r.fail(fmt.Errorf("%w from TURN server %s over %s within %s", ErrNoAnswer, raddr, orUDP(tr), clock.UDPSilence().Round(time.Millisecond)))
			return
		}
		t.Reset(clock.RTO())
	}
}

// observeFirst feeds the first transaction's round trip to the clock when
// it came back before the first retransmission could have gone (Karn).
func observeFirst(r *recConn, clock *Clock, raddr netip.AddrPort) {
	r.mu.Lock()
	rtt := r.firstRecv.Sub(r.firstSent)
	r.mu.Unlock()
	if rtt > 0 && rtt < max(TURNRTO, clock.RTO()) {
		clock.Observe(raddr.Addr().Unmap().String(), rtt)
	}
}

func (r *recConn) readErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *recConn) Close() error {
	var err error
	r.closeOnce.Do(func() { err = r.PacketConn.Close() })
	return err
}

func (r *recConn) challengeRTT() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstSent.IsZero() || r.firstRecv.IsZero() {
		return 0
	}
	return r.firstRecv.Sub(r.firstSent)
}

// fillFromLast copies the last Allocate response's facts into det.
func (r *recConn) fillFromLast(det *TURNDetails) {
	r.mu.Lock()
	m := r.last
	r.mu.Unlock()
	if m != nil {
		turnReadAllocate(m, det)
	}
}

// quietLogger drops pion's logs: they can carry user names and are not
// evidence.
type quietLogger struct{}

func (quietLogger) NewLogger(string) logging.LeveledLogger { return quietLog{} }

type quietLog struct{}

func (quietLog) Trace(string)          {}
func (quietLog) Tracef(string, ...any) {}
func (quietLog) Debug(string)          {}
func (quietLog) Debugf(string, ...any) {}
func (quietLog) Info(string)           {}
func (quietLog) Infof(string, ...any)  {}
func (quietLog) Warn(string)           {}
func (quietLog) Warnf(string, ...any)  {}
func (quietLog) Error(string)          {}
func (quietLog) Errorf(string, ...any) {}

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

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

func init() {
	RegisterKind(KindInfo{Kind: KindTURN, Prober: TURN, PerPort: true, NeedsPort: true, MinNeed: MinTCPSilence + MinUDPSilence})
}

// TURNDetails is the evidence of a TURN allocation and its relayed data path.
type TURNDetails struct {
	Server      string         `json:"server"`
	Credentials CredentialKind `json:"credentials"` // never the secret
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

// TURNRTO is the least first retransmission timeout of pion's TURN
// requests over UDP (it doubles; the context bounds the whole).
var TURNRTO = 100 * time.Millisecond

// turnClientRTO is a pion TURN client's first retransmission timeout: the
// run's RTO, at least TURNRTO. A request answered sooner was sent once
// (Karn: its round trip may feed the clock).
func turnClientRTO(clock *Clock) time.Duration {
	return max(TURNRTO, clock.RTO())
}

// TURNRelayCount is how many datagrams are sent through the relay.
const TURNRelayCount = 5

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
		// The server answered: reachable. A slow path that the deadline
		// cut is no block: a partial result (warn, canceled), which names
		// no cause.
		res.Status, res.Class, res.Error = StatusWarn, ClassCanceled, err.Error()
		return res
	}
	if err != nil {
		res.Fail(turnClass(err, det), err)
		if det.Credentials == CredNone && res.Class == ClassAuth {
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

func turnCheck(ctx context.Context, spec Spec, cfg *Config, tr Transport, det *TURNDetails) error {
	// A user name without its password counts as none (the challenge
	// still proves the server answers); the error says what was missing.
	auth, credErr := ResolveTURNCredentials(cfg.TURN, time.Now())
	det.Credentials, det.Username = auth.Kind, auth.Username
	user, pass := auth.Username, auth.Password.Reveal()

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
	if det.Credentials == CredNone {
		err = turnUnauthenticated(ctx, client, raddr, det, rec)
		if err != nil && credErr != nil {
			err = fmt.Errorf("%w; %w", credErr, err)
		}
		return err
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
	// Both watchers end with the session: close waits for them, so none
	// outlives the check (nor feeds the clock after it returned).
	var watchers sync.WaitGroup
	watchers.Go(func() {
		select {
		case <-rec.failed:
			cancel(rec.readErr())
		case <-sctx.Done():
		}
	})
	watchers.Go(func() { rec.silenceWatch(sctx, clockOf(cfg), raddr, tr) })
	s := &turnSession{ctx: sctx, rec: rec, raddr: raddr, close: func() { cancel(nil); _ = rec.Close(); watchers.Wait() }}
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: raddr.String(), TURNServerAddr: raddr.String(),
		Conn: rec, Username: user, Password: pass, RTO: turnClientRTO(clockOf(cfg)),
		Software: "ucprobe", LoggerFactory: quietLogger{},
	})
	if err != nil {
		return s, err
	}
	stop := context.AfterFunc(sctx, func() { client.Close(); _ = rec.Close() })
	s.client = client
	s.close = func() { client.Close(); stop(); cancel(nil); _ = rec.Close(); watchers.Wait() }
	return s, client.Listen()
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
		// The server had answered (the silence watch would have said
		// otherwise): the run's deadline cut a slow exchange, no block.
		return fmt.Errorf("%w: the run's deadline ended TURN at stage %s, after %d %s from %s (%w)",
			ErrCutAfterAnswer, det.Stage, det.Answers, plural(det.Answers, "answer", "answers"), det.Server, ctx.Err())
	}
	return err
}

func orUDP(t Transport) Transport {
	if t == "" {
		return TransportUDP
	}
	return t
}

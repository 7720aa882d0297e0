package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// Sentinel errors of a self relay.
var (
	// ErrSelfPermission: the TURN server refused a permission for the
	// client's own public address (a denied-peer-ip policy).
	ErrSelfPermission = errors.New("the TURN server refused a permission for this client's own address")
	// ErrNoDelivery: the relay delivered none of the datagrams this
	// client sent to its own relayed address.
	ErrNoDelivery = errors.New("the relay delivered nothing this client sent to its own relayed address")
)

// SelfRelay is a TURN allocation over UDP whose client socket also sends
// plain datagrams to its own relayed address. The relay hands them back
// as Data indications with the address it saw them from: this client's
// mapping towards a second destination (NAT tests), and a round trip
// client -> TURN -> client without anything at the far end (media).
type SelfRelay struct {
	// Conn is the client's unconnected socket: pion's client reads it;
	// plain datagrams to Relayed go out on it.
	Conn    net.PacketConn
	Client  *turn.Client
	Relay   net.PacketConn
	Server  netip.AddrPort
	Relayed netip.AddrPort
	// Mapped is the server's view of Conn (its Binding answer).
	Mapped netip.AddrPort
	// Other is the server's RFC 5780 OTHER-ADDRESS, if it offers one.
	Other netip.AddrPort

	stray *strayConn
	stop  func() bool
	// clock is the run's (nil: none); rto is the client's first
	// retransmission timeout, the Karn bound of Bind's samples.
	clock *Clock
	rto   time.Duration
}

// OpenSelfRelay binds (STUN) and allocates (TURN) from one new socket
// towards the spec's server over UDP and creates a permission for the
// client's own public address. It needs TURN credentials. On error the
// returned relay, if not nil, holds what was learned and must be closed.
func OpenSelfRelay(ctx context.Context, spec Spec, cfg *Config) (*SelfRelay, error) {
	// The server's answers take a few round trips; a silent one must not
	// hold the caller for pion's whole retransmission schedule.
	setupCtx, cancel := context.WithTimeout(ctx, selfRelaySetup(clockOf(cfg)))
	defer cancel()
	return openSelfRelay(setupCtx, ctx, spec, cfg)
}

// selfRelaySetup caps Binding, Allocate (challenge and request) and the
// permission together: a silent server is known after one transaction's
// silence bound, an answering one needs four round trips, an RTO apiece as
// the clock measured the path; 2 s at least. Fixed at 2 s, the setup over
// a ~480 ms path with jitter failed now and then (the check starts before
// the clock has measured anything). The run's share of the deadline still
// bounds it.
func selfRelaySetup(c *Clock) time.Duration {
	return max(2*time.Second, selfRelayTransactions*c.RTO(), c.UDPSilence())
}

// selfRelayTransactions are the round trips of the relay's setup.
const selfRelayTransactions = 4

// openSelfRelay sets up under setupCtx; the relay lives until ctx ends.
func openSelfRelay(ctx, life context.Context, spec Spec, cfg *Config) (*SelfRelay, error) {
	auth, err := ResolveTURNCredentials(cfg.TURN, time.Now())
	if auth.Kind == CredNone {
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoCredential, err)
		}
		return nil, ErrNoCredential
	}
	user, pass := auth.Username, auth.Password.Reveal()
	server, err := resolveUDP(ctx, cfg, spec)
	if err != nil {
		return nil, err
	}
	local, err := localIPFor(server)
	if err != nil {
		return nil, err
	}
	base, err := net.ListenUDP(udpNet(server), &net.UDPAddr{IP: local.AsSlice()})
	if err != nil {
		return nil, err
	}
	enableRxStamps(base) // best effort: without it, arrival is when the datagram was read
	stray := &strayConn{PacketConn: base, udp: base, server: server, got: make(chan strayDatagram, 16), arrivals: map[string]time.Time{}}
	// pion retransmits at the path's RTO as the turn check does: on a slow
	// path a fixed 100 ms would resend before any answer could come back.
	clock := clockOf(cfg)
	rto := turnClientRTO(clock)
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server.String(), TURNServerAddr: server.String(),
		Conn: stray, Username: user, Password: pass, RTO: rto,
		Software: "ucprobe", LoggerFactory: quietLogger{},
	})
	if err != nil {
		_ = base.Close()
		return nil, err
	}
	s := &SelfRelay{Conn: stray, Client: client, Server: server, stray: stray, clock: clock, rto: rto}
	// pion's calls without a context end when the client closes.
	// Until set up, the setup's bound closes it (CreatePermission takes
	// no context); then the caller's.
	s.stop = context.AfterFunc(ctx, s.closeAll)
	if err := client.Listen(); err != nil {
		return s, err
	}
	mapped, other, err := s.Bind(ctx, server)
	if err != nil {
		var te *stun.TurnError
		if !errors.As(err, &te) && !errors.Is(err, ErrNoMapped) {
			err = fmt.Errorf("%w from %s: %w", ErrNoAnswer, server, err)
		}
		return s, err
	}
	s.Mapped, s.Other = mapped, other
	relay, err := client.AllocateWithContext(ctx)
	if err != nil {
		return s, err
	}
	s.Relay = relay
	s.Relayed = addrPortOf(relay.LocalAddr())
	if err := client.CreatePermission(net.UDPAddrFromAddrPort(mapped)); err != nil {
		if ctx.Err() != nil {
			return s, fmt.Errorf("TURN server %s: no answer to the permission in time: %w", server, ctx.Err())
		}
		var te *stun.TurnError
		if errors.As(err, &te) {
			return s, fmt.Errorf("%w %s: %d %s", ErrSelfPermission, mapped.Addr(), te.ErrorCodeAttr.Code, te.ErrorCodeAttr.Reason)
		}
		return s, fmt.Errorf("%w %s: %w", ErrSelfPermission, mapped.Addr(), err)
	}
	if !s.stop() {
		return s, fmt.Errorf("TURN server %s: the relay setup took longer than its bound: %w", server, context.DeadlineExceeded)
	}
	s.stop = context.AfterFunc(life, s.closeAll)
	return s, nil
}

// Bind sends a Binding from the relay's socket to `to` and returns the
// mapping it saw and its OTHER-ADDRESS (zero when not offered). An answer
// that came before pion's first retransmission feeds the run's clock.
func (s *SelfRelay) Bind(ctx context.Context, to netip.AddrPort) (mapped, other netip.AddrPort, err error) {
	msg := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	start := time.Now()
	r, err := s.Client.PerformTransactionWithContext(msg, net.UDPAddrFromAddrPort(to), false, ctx)
	if err != nil {
		return mapped, other, err
	}
	if rtt := time.Since(start); rtt < s.rto {
		s.clock.Observe(to.Addr().Unmap().String(), rtt)
	}
	var xm stun.XORMappedAddress
	if err := xm.GetFrom(r.Msg); err != nil {
		return mapped, other, fmt.Errorf("%w from %s", ErrNoMapped, to)
	}
	mapped = addrPortOf(&net.UDPAddr{IP: xm.IP, Port: xm.Port})
	var oa stun.OtherAddress
	if oa.GetFrom(r.Msg) == nil {
		other = addrPortOf(&net.UDPAddr{IP: oa.IP, Port: oa.Port})
	}
	return mapped, other, nil
}

// Stray returns the next plain datagram that reached Conn from another
// address than the server, or false when ctx ends first.
func (s *SelfRelay) Stray(ctx context.Context) (from netip.AddrPort, payload []byte, ok bool) {
	select {
	case d := <-s.stray.got:
		return d.from, d.payload, true
	case <-ctx.Done():
		return from, nil, false
	}
}

// Close ends the allocation, the client and the socket.
func (s *SelfRelay) Close() {
	s.stop()
	s.closeAll()
}

func (s *SelfRelay) closeAll() {
	if s.Relay != nil {
		_ = s.Relay.Close()
	}
	s.Client.Close()
	_ = s.stray.Close()
}

// ArrivedAt is when the relay's datagram whose data starts with head (at
// least 12 bytes: an RTP header) reached this socket, by the kernel's
// clock where it stamps datagrams (Linux), else when it was read. Each
// arrival is handed out once.
func (s *SelfRelay) ArrivedAt(head []byte) (time.Time, bool) {
	if len(head) < arrivalKeyLen {
		return time.Time{}, false
	}
	s.stray.mu.Lock()
	defer s.stray.mu.Unlock()
	at, ok := s.stray.arrivals[string(head[:arrivalKeyLen])]
	delete(s.stray.arrivals, string(head[:arrivalKeyLen]))
	return at, ok
}

// arrivalKeyLen: an RTP header (sequence number, timestamp, SSRC) tells
// one packet of a stream from every other.
const arrivalKeyLen = 12

// maxArrivals bounds the arrival times kept for ArrivedAt.
const maxArrivals = 4096

// strayConn hands every datagram that is neither STUN nor the server's
// ChannelData to its channel instead of pion's client (which ignores
// them), and notes when relayed data arrived (ArrivedAt).
type strayConn struct {
	net.PacketConn
	udp    *net.UDPConn
	server netip.AddrPort
	got    chan strayDatagram
	once   sync.Once

	mu       sync.Mutex
	arrivals map[string]time.Time
}

// noteArrival keeps the arrival time of relayed data (a Data indication's
// DATA, or ChannelData's payload) from the server.
func (c *strayConn) noteArrival(b []byte, at time.Time) {
	var data []byte
	switch {
	case isChannelData(b):
		data = b[4:]
	case len(b) >= 20 && b[0] == 0x00 && b[1] == 0x17: // Data indication
		m := &stun.Message{Raw: b}
		if m.Decode() != nil {
			return
		}
		data, _ = m.Get(stun.AttrData)
	}
	if len(data) < arrivalKeyLen {
		return
	}
	c.mu.Lock()
	if len(c.arrivals) < maxArrivals {
		c.arrivals[string(data[:arrivalKeyLen])] = at
	}
	c.mu.Unlock()
}

type strayDatagram struct {
	from    netip.AddrPort
	payload []byte
}

func (c *strayConn) ReadFrom(b []byte) (int, net.Addr, error) {
	var oob [128]byte
	for {
		n, from, at, err := readStamped(c.udp, b, oob[:])
		if err != nil {
			return n, nil, err
		}
		ap := netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if ap == c.server {
			c.noteArrival(b[:n], at)
		}
		if stun.IsMessage(b[:n]) || ap == c.server && isChannelData(b[:n]) {
			return n, net.UDPAddrFromAddrPort(ap), nil
		}
		select {
		case c.got <- strayDatagram{from: ap, payload: append([]byte(nil), b[:n]...)}:
		default: // nobody is reading: drop, as the network might
		}
	}
}

func (c *strayConn) Close() error {
	var err error
	c.once.Do(func() { err = c.PacketConn.Close() })
	return err
}

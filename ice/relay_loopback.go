package ice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/pion/stun/v4"

	"github.com/ucprobe/ucprobe/probe"
)

// ModeRelayLoopback measures media without a far end: RTP-shaped packets
// go from this client's socket to its own TURN relayed address, and the
// relay hands each back as a Data indication on the same socket. The
// round trip is client -> TURN server -> client: loss, jitter and RTT of
// the access path to the TURN server, which is where a site's trouble
// usually is. A two-ended measurement against a responder is better (it
// covers the whole path); the diagnosis prefers it when both ran.
const ModeRelayLoopback = probe.ICERelayLoopback

// MediaPathRelayLoopback is MediaStats.Path of a relay-loopback stream.
const MediaPathRelayLoopback = string(ModeRelayLoopback)

// relayLoopback opens the self relay (probe.OpenSelfRelay: Binding,
// Allocate and a permission for our own public address, over UDP) and runs
// the media window through it.
func (c *Checker) relayLoopback(ctx context.Context, spec probe.Spec, cfg *probe.Config, det *probe.ICEDetails) error {
	if spec.Transport != "" && spec.Transport != probe.TransportUDP {
		return classed(probe.ClassProtocol, fmt.Errorf("%w: relay-loopback runs over UDP, not %s", ErrBadMode, spec.Transport))
	}
	// The same resolver as probe.OpenSelfRelay's, so what is decided here
	// is what authenticates there.
	auth, credErr := probe.ResolveTURNCredentials(cfg.TURN, time.Now())
	det.TURNCredentials = auth.Kind
	port := spec.Port
	if port == 0 {
		port = 3478
		spec.Port = port
	}
	det.Servers = []string{"turn:" + net.JoinHostPort(spec.DialHost(), strconv.Itoa(port)) + "?transport=udp"}
	if auth.Kind == probe.CredNone {
		return classed(probe.ClassAuth, whyNone(fmt.Errorf("%w: the relay-loopback media check relays through the TURN server %s; give --turn-user and --turn-pass (or --turn-secret)",
			ErrNoTURNCredentials, spec.DialHost()), credErr))
	}
	det.RelayExpected = true
	start := time.Now()
	sr, err := probe.OpenSelfRelay(ctx, spec, cfg)
	if sr != nil {
		defer sr.Close()
	}
	if err != nil {
		return classed(selfRelayClass(err), fmt.Errorf("relay loopback through %s: %w", spec.DialHost(), err))
	}
	det.ConnectedMS = ms(time.Since(start))
	det.State = "connected"
	det.LocalCandidates = append(det.LocalCandidates,
		probe.ICECandidate{ID: "relay", Type: "relay", Protocol: "udp", Address: sr.Relayed.Addr().String(), Port: int(sr.Relayed.Port()), RelayProtocol: "udp"})
	c.media(ctx, cfg, det, &loopConn{sr: sr}, nil)
	if m := det.Media; m != nil {
		m.Path = MediaPathRelayLoopback
		// Both legs are counted here: the split is unknown, not zero.
		m.LossUpPct, m.LossDownPct, m.JitterUpMS = 0, 0, 0
		if m.Sent > 0 && m.Received == 0 {
			return classed(probe.ClassTimeout, fmt.Errorf("%w: none of %d media packets came back through the relay %s", probe.ErrNoDelivery, m.Sent, sr.Relayed))
		}
	}
	return nil
}

// relayLoopbackStatus: without credentials the loopback is skipped (the
// turn checks say so); a server that refuses our own address as a peer,
// or a relay that delivers nothing, leaves the media unmeasured (a
// warning; a silent relay shows as loss too), not a failed connection.
func relayLoopbackStatus(res *probe.Result, err error) {
	switch {
	case errors.Is(err, ErrNoTURNCredentials):
		res.Status, res.Details.SkipReason = probe.StatusSkip, probe.SkipNoCredentials
		res.Details.Skipped = "needs TURN credentials (--turn-user and --turn-pass, or --turn-secret) to measure media through the relay"
	case errors.Is(err, probe.ErrSelfPermission), errors.Is(err, probe.ErrNoDelivery):
		res.Status = probe.StatusWarn
	}
}

func selfRelayClass(err error) probe.ErrorClass {
	var te *stun.TurnError
	switch {
	case errors.As(err, &te) && (te.ErrorCodeAttr.Code == stun.CodeUnauthorized || te.ErrorCodeAttr.Code == stun.CodeWrongCredentials):
		return probe.ClassAuth
	case errors.As(err, &te), errors.Is(err, probe.ErrSelfPermission):
		return probe.ClassProtocol
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, probe.ErrNoAnswer):
		return probe.ClassTimeout
	}
	return probe.Classify(err)
}

// loopConn is the media stream's connection through the self relay:
// writes go to the relayed address as plain UDP, reads are the relay's
// Data indications of them, turned into echoes (the relay is the far end).
type loopConn struct {
	sr   *probe.SelfRelay
	rx   uint32
	peer netip.AddrPort // the mapping the relay saw; other senders are ignored
	at   time.Time      // when the packet Read returned last reached the socket
	atOK bool
}

func (l *loopConn) arrival() (time.Time, bool) { return l.at, l.atOK }

func (l *loopConn) Write(b []byte) (int, error) {
	return l.sr.Conn.WriteTo(b, net.UDPAddrFromAddrPort(l.sr.Relayed))
}

func (l *loopConn) Read(b []byte) (int, error) {
	var p mediaPacket
	for {
		n, from, err := l.sr.Relay.ReadFrom(b)
		if err != nil {
			return n, err
		}
		if p.unmarshal(b[:n]) != nil || p.kind != kindProbe {
			continue
		}
		l.at, l.atOK = l.sr.ArrivedAt(b[:n])
		ap, _ := netip.ParseAddrPort(from.String())
		if l.peer.IsValid() && ap != l.peer {
			continue
		}
		l.peer = ap
		l.rx++
		p.kind, p.peerRx, p.peerSeq = kindEcho, l.rx, l.rx-1
		return len(p.marshal(b)), nil
	}
}

func (l *loopConn) SetReadDeadline(t time.Time) error { return l.sr.Relay.SetReadDeadline(t) }

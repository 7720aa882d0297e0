package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// natRelayBudget caps the relay NAT test inside a TURN check: one
// allocation, a permission, a few Bindings and two short waits.
const natRelayBudget = 2 * time.Second

// natRelaySends is how often the filtering datagram is sent before its
// silence counts (loss must not look like a verdict). The self-sent one
// is a request like any other: Transmissions sends on the clock's schedule.
const natRelaySends = 3

// MeasureRelayNAT tests the NAT's mapping with one STUN/TURN server: from
// one socket it asks the server for its mapping (Binding), allocates,
// permits its own public address, and sends a plain datagram to its own
// relayed address; the relay's Data indication says where that datagram
// came from: the mapping towards a second destination. The --stun extras
// and the server's RFC 5780 OTHER-ADDRESS add destinations on other
// addresses. Before the self-send, the relay sends to the mapping made
// towards the server (filtering from the server's address, another port).
// It never fails the check: what it cannot tell stays unknown, with the
// reason in Undetermined.
func MeasureRelayNAT(ctx context.Context, spec Spec, cfg *Config) *NATInfo {
	ctx, cancel := context.WithTimeout(ctx, natRelayBudget)
	defer cancel()
	if cfg.Clock == nil {
		// Called on its own: the waits follow this test's own round
		// trips (its Bindings feed the clock), not a path never measured.
		own := *cfg
		own.Clock = &Clock{}
		cfg = &own
	}
	info := &NATInfo{Mapping: NATUnknown, Mapped: map[string]string{}, Method: NATMethodTURNRelay, Checks: []string{spec.ID}}
	sr, err := OpenSelfRelay(ctx, spec, cfg)
	if sr != nil {
		defer sr.Close()
		if sr.Mapped.IsValid() {
			info.PublicAddr = sr.Mapped.String()
			info.observe(sr.Server, sr.Mapped, NATViaSTUN)
		}
	}
	if err != nil {
		info.Undetermined = relayUndetermined(ctx, err)
		return info
	}
	for _, e := range cfg.ExtraSTUN {
		if ap, ok := resolveExtra(ctx, e, cfg); ok && ap.Addr().Is4() == sr.Server.Addr().Is4() {
			if m, _, err := sr.Bind(ctx, ap); err == nil {
				info.observe(ap, m, NATViaSTUN)
			}
		}
	}
	if o := sr.Other; o.IsValid() && o.Addr() != sr.Server.Addr() {
		info.RFC5780 = true
		if m, _, err := sr.Bind(ctx, o); err == nil {
			info.observe(o, m, NATViaOther)
		}
	}
	peer, err := relaySelfSend(ctx, sr)
	if err != nil {
		info.Undetermined = relayUndetermined(ctx, err)
	} else {
		info.observe(sr.Relayed, peer, NATViaRelay)
	}
	// Filtering from a second allocation: its relayed address was never
	// sent to. (The first one was: the NAT lets its answers in. Testing
	// it before the self-send fails too: the NAT remembers the dropped
	// datagram's ports and maps the self-send to another port, which
	// looks like a symmetric NAT.)
	if sr2, err := OpenSelfRelay(ctx, spec, cfg); err == nil {
		info.FilteringTest = relayFilteringTest(ctx, sr2.Relay, sr2.Relayed, sr)
		info.Filtering = ClassifyFiltering(info.FilteringTest, sr.Server)
		sr2.Close()
	} else if sr2 != nil {
		sr2.Close()
	}
	local := addrPortOf(sr.Conn.LocalAddr())
	var why string
	info.Mapping, why = ClassifyMapping(local, info.Observations)
	switch {
	case info.Mapping == NATNone || why == "":
		info.Undetermined = "" // determined: a failed self-send does not matter
	case info.Undetermined == "":
		info.Undetermined = why
	}
	return info
}

func (n *NATInfo) observe(dst, mapped netip.AddrPort, via NATVia) {
	n.Observations = append(n.Observations, NATObservation{Destination: dst.String(), Mapped: mapped.String(), Via: via})
	n.Mapped[dst.String()] = mapped.String()
}

// relayUndetermined is the reason the relay test could not conclude.
func relayUndetermined(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, ErrSelfPermission), errors.Is(err, ErrNoDelivery):
		return err.Error()
	case ctx.Err() != nil:
		return "the TURN server did not complete the relay test in time"
	}
	return "the relay test failed: " + err.Error()
}

// relaySelfSend sends a datagram from the client's socket to its own
// relayed address and returns the peer address of the Data indication. It
// is a request like a Binding: Transmissions sends on the clock's schedule
// (re-read at each, as round trips are measured), and a first send's round
// trip (client -> relay -> client) feeds the clock.
func relaySelfSend(ctx context.Context, sr *SelfRelay) (netip.AddrPort, error) {
	stop := context.AfterFunc(ctx, func() { _ = sr.Relay.SetReadDeadline(time.Now()) })
	defer stop()
	defer func() { _ = sr.Relay.SetReadDeadline(time.Time{}) }()
	payload := []byte("ucprobe-nat-relay-self")
	buf := make([]byte, 1500)
	for i := 0; i < Transmissions && ctx.Err() == nil; i++ {
		if _, err := sr.Conn.WriteTo(payload, net.UDPAddrFromAddrPort(sr.Relayed)); err != nil {
			return netip.AddrPort{}, fmt.Errorf("send to the relayed address %s: %w", sr.Relayed, err)
		}
		sent := time.Now()
		_ = sr.Relay.SetReadDeadline(sent.Add(sr.clock.Schedule().next(i)))
		for {
			n, from, err := sr.Relay.ReadFrom(buf)
			if err != nil {
				break
			}
			if bytes.Equal(buf[:n], payload) {
				if i == 0 { // Karn: a resent datagram's echo is ambiguous
					sr.clock.Observe(sr.Relayed.Addr().Unmap().String(), time.Since(sent))
				}
				return addrPortOf(from), nil
			}
		}
	}
	return netip.AddrPort{}, fmt.Errorf("%w (%d datagrams to %s)", ErrNoDelivery, Transmissions, sr.Relayed)
}

// relayFilteringTest sends from another relayed address (from, on
// relay) to the mapping sr's client made towards the server and counts
// what arrives there.
func relayFilteringTest(ctx context.Context, relay net.PacketConn, from netip.AddrPort, sr *SelfRelay) *NATFilteringTest {
	t := &NATFilteringTest{From: from.String(), To: sr.Mapped.String()}
	payload := []byte("ucprobe-nat-filtering")
	// The datagrams go out a little apart (a loss takes one, not all) and
	// their silence is waited for once: a filtering NAT costs one wait.
	for i := 0; i < natRelaySends && ctx.Err() == nil && t.Received == 0; i++ {
		if _, err := relay.WriteTo(payload, net.UDPAddrFromAddrPort(sr.Mapped)); err != nil {
			break
		}
		t.Sent++
		t.Received += awaitStray(ctx, sr, from, payload, natFilteringGap)
	}
	if t.Received == 0 {
		// The server has answered this path all along (its round trips
		// are in the clock): late now is lost or filtered, so two RTOs,
		// as for the turn check's late echoes once some came back.
		t.Received += awaitStray(ctx, sr, from, payload, 2*sr.clock.RTO())
	}
	if ctx.Err() != nil && t.Received == 0 {
		t.Sent = 0 // cut off: no verdict
	}
	return t
}

// natFilteringGap spaces the filtering datagrams.
const natFilteringGap = 15 * time.Millisecond

// awaitStray waits up to d for payload from `from` on sr's socket: 1 when
// it came, else 0.
func awaitStray(ctx context.Context, sr *SelfRelay, from netip.AddrPort, payload []byte, d time.Duration) int {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		got, data, ok := sr.Stray(wctx)
		if !ok {
			return 0
		}
		if got == from && bytes.Equal(data, payload) {
			return 1
		}
	}
}

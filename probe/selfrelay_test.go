package probe_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// The self relay's TURN client retransmits at the run's RTO (at least
// probe.TURNRTO), as the turn check's does: a clock that measured a slow
// path holds the Binding to one request before a 1 s deadline, where a
// fixed 100 ms RTO sent four (0, 100, 300, 700 ms).
func TestOpenSelfRelayRTOFollowsTheClock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sample   time.Duration // one round trip the clock measured
		requests int
	}{
		{"fast path: RTO 100 ms", time.Millisecond, 4},
		{"slow path: RTO 2 s", time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			clock := &probe.Clock{}
			clock.Observe("192.0.2.1", tc.sample)
			cfg := &probe.Config{Clock: clock, TURN: probe.TURNCredentials{Username: "bob", Password: probe.Secret("pion-pass-1")}}
			spec := probe.Spec{ID: "turn-udp", Kind: probe.KindTURN, Host: "127.0.0.1", Port: silent.LocalAddr().(*net.UDPAddr).Port}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			sr, err := probe.OpenSelfRelay(ctx, spec, cfg)
			if sr != nil {
				sr.Close()
			}
			if err == nil {
				t.Fatal("a silent server, yet the relay opened")
			}
			// The requests wait in the silent socket's buffer.
			n := 0
			buf := make([]byte, 1500)
			for {
				_ = silent.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if _, _, err := silent.ReadFrom(buf); err != nil {
					break
				}
				n++
			}
			if n != tc.requests {
				t.Fatalf("%d Binding requests within 1 s at RTO %s, want %d", n, clock.RTO(), tc.requests)
			}
		})
	}
}

// The self relay's Binding answered before any retransmission is a round
// trip of the run: it feeds the clock (Karn), as the turn check's first
// answer does.
func TestOpenSelfRelayFeedsTheClock(t *testing.T) {
	port := startPionTURNWith(t, "bob", "pion-pass-1", nil, nil).UDPPort
	clock := &probe.Clock{}
	cfg := &probe.Config{Clock: clock, TURN: probe.TURNCredentials{Username: "bob", Password: probe.Secret("pion-pass-1")}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	sr, err := probe.OpenSelfRelay(ctx, probe.Spec{ID: "turn-udp", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port}, cfg)
	if sr != nil {
		defer sr.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if p := clock.Path(); p.Samples != 1 {
		t.Fatalf("%d round-trip samples after the relay's Binding, want 1", p.Samples)
	}
}

// The relay NAT test's round trips are the run's: both allocations'
// Bindings and the first self-sent datagram's echo through the relay feed
// its clock, and its waits follow that clock.
func TestMeasureRelayNATFeedsTheClock(t *testing.T) {
	port := startPionTURNWith(t, "bob", "pion-pass-1", nil, nil).UDPPort
	clock := &probe.Clock{}
	cfg := &probe.Config{Clock: clock, TURN: probe.TURNCredentials{Username: "bob", Password: probe.Secret("pion-pass-1")}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	n := probe.MeasureRelayNAT(ctx, probe.Spec{ID: "turn-udp", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port}, cfg)
	if n.Mapping != probe.NATNone {
		t.Fatalf("mapping %q (%s)", n.Mapping, n.Undetermined)
	}
	if p := clock.Path(); p.Samples != 3 {
		t.Fatalf("%d round-trip samples, want 3 (two Bindings, one self-send)", p.Samples)
	}
}

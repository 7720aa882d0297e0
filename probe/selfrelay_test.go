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
	// The round trip the clock measured -> Binding requests within 1 s.
	want := map[time.Duration]int{time.Millisecond: 4, time.Second: 1}
	for sample, requests := range want {
		t.Run("sample "+sample.String(), func(t *testing.T) {
			silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer silent.Close()
			spec, cfg := selfRelaySetup(silent.LocalAddr().(*net.UDPAddr).Port)
			cfg.Clock.Observe("192.0.2.1", sample)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if sr, err := probe.OpenSelfRelay(ctx, spec, cfg); err == nil {
				sr.Close()
				t.Fatal("a silent server, yet the relay opened")
			} else if sr != nil {
				sr.Close()
			}
			// A stalled scheduler may push the last send past the bound:
			// one fewer is no fault, one more is the fixed schedule's.
			if n := drain(silent); n > requests || n < max(requests-1, 1) {
				t.Fatalf("%d Binding requests within 1 s at RTO %s, want %d (or one fewer)", n, cfg.Clock.RTO(), requests)
			}
		})
	}
}

// drain counts the datagrams waiting in c's buffer.
func drain(c net.PacketConn) int {
	buf := make([]byte, 1500)
	for n := 0; ; n++ {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := c.ReadFrom(buf); err != nil {
			return n
		}
	}
}

// selfRelaySetup is a spec for a TURN server on 127.0.0.1:port with pion's
// test credentials, and a config with a clock of its own.
func selfRelaySetup(port int) (probe.Spec, *probe.Config) {
	return probe.Spec{ID: "turn-udp", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port},
		&probe.Config{Clock: &probe.Clock{}, TURN: probe.TURNCredentials{Username: "bob", Password: probe.Secret("pion-pass-1")}}
}

// The round trips of the self relay and of the relay NAT test are the
// run's: a Binding answered before any retransmission (Karn), as the turn
// check's first answer, and the first self-sent datagram's echo through
// the relay feed the clock. OpenSelfRelay binds once; MeasureRelayNAT
// opens two relays and sends to itself once.
func TestSelfRelayFeedsTheClock(t *testing.T) {
	port := startPionTURNWith(t, "bob", "pion-pass-1", nil, nil).UDPPort
	for name, samples := range map[string]int{"OpenSelfRelay": 1, "MeasureRelayNAT": 3} {
		t.Run(name, func(t *testing.T) {
			spec, cfg := selfRelaySetup(port)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if name == "OpenSelfRelay" {
				sr, err := probe.OpenSelfRelay(ctx, spec, cfg)
				if sr != nil {
					defer sr.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
			} else if n := probe.MeasureRelayNAT(ctx, spec, cfg); n.Mapping != probe.NATNone {
				t.Fatalf("mapping %q (%s)", n.Mapping, n.Undetermined)
			}
			if p := cfg.Clock.Path(); p.Samples != samples {
				t.Fatalf("%d round-trip samples, want %d", p.Samples, samples)
			}
		})
	}
}

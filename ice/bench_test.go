package ice

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// Benchmarks on loopback (scripts/bench_ice.sh): time from the start of
// the check to ICE connected (median, from the evidence), and the check's
// overhead beyond the media window.

func benchICE(b *testing.B, spec probe.Spec, cfg *probe.Config) {
	c := loopbackChecker()
	var connected, overhead []float64
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		start := time.Now()
		res := c.Check(ctx, spec, cfg)
		took := time.Since(start)
		cancel()
		if res.Status != probe.StatusPass {
			b.Fatalf("%s %s: %s", res.Status, res.Class, res.Error)
		}
		connected = append(connected, res.Details.ICE.ConnectedMS)
		overhead = append(overhead, float64((took-cfg.Media).Microseconds())/1000)
	}
	b.StopTimer()
	b.ReportMetric(median(connected), "connected-ms")
	b.ReportMetric(median(overhead), "overhead-ms")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func BenchmarkICEOneEnded(b *testing.B) {
	port := startTURN(b, "127.0.0.2")
	benchICE(b, probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeOneEnded)},
		&probe.Config{TURN: creds()})
}

func BenchmarkICERelayRelay(b *testing.B) {
	port := startTURN(b, "127.0.0.2")
	benchICE(b, probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeRelayRelay), Transport: probe.TransportUDP},
		&probe.Config{TURN: creds()})
}

func BenchmarkICETwoEnded(b *testing.B) {
	port := startTURN(b, "127.0.0.2")
	r, err := NewResponderHandler(ResponderConfig{Servers: []string{"stun:127.0.0.2:" + itoa(port), "turn:127.0.0.2:" + itoa(port) + "?transport=udp"},
		TURNUser: testUser, TURNPass: testPass, ShareTURNCredentials: true, Token: testToken, IPFilter: loopbackOnly, Loopback: true})
	if err != nil {
		b.Fatal(err)
	}
	addr := serve(b, r)
	benchICE(b, probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}, pinned(&probe.Config{Responder: addr}))
}

// BenchmarkICEMediaOverhead: a one-ended check with a 1 s media window;
// overhead-ms is everything but the window (gathering, checks, the grace
// for late echoes, teardown).
func BenchmarkICEMediaOverhead(b *testing.B) {
	port := startTURN(b, "127.0.0.2")
	benchICE(b, probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeOneEnded)},
		&probe.Config{TURN: creds(), Media: time.Second})
}

package ice

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"

	"github.com/ucprobe/ucprobe/probe"
)

// loopbackOnly keeps host candidates to 127.0.0.1 so tests never touch
// another interface.
func loopbackOnly(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }

func loopbackChecker() *Checker { return &Checker{IPFilter: loopbackOnly, Loopback: true} }

func runCheck(t *testing.T, c *Checker, spec probe.Spec, cfg *probe.Config, bound time.Duration) probe.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	start := time.Now()
	res := c.Check(ctx, spec, cfg)
	if took := time.Since(start); took > bound+time.Second {
		t.Errorf("check took %v, bound %v", took, bound)
	}
	return res
}

func creds() probe.TURNCredentials {
	return probe.TURNCredentials{Username: testUser, Password: probe.Secret(testPass)}
}

func TestOneEndedPionTURN(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startTURN(t, "127.0.0.2")
	for _, tc := range []struct {
		mode      probe.ICEMode
		transport probe.Transport
		wantVia   string
	}{
		{ModeOneEnded, "", ""},
		{ModeRelayRelay, probe.TransportUDP, "relay/udp"},
		{ModeRelayRelay, probe.TransportTCP, "relay/tcp"},
	} {
		t.Run(string(tc.mode)+"/"+string(tc.transport), func(t *testing.T) {
			spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(tc.mode), Transport: tc.transport}
			cfg := &probe.Config{TURN: creds(), Media: time.Second}
			res := runCheck(t, loopbackChecker(), spec, cfg, 10*time.Second)
			d := res.Details.ICE
			if res.Status != probe.StatusPass {
				b, _ := json.MarshalIndent(d, "", " ")
				t.Fatalf("status %s class %s: %s\n%s", res.Status, res.Class, res.Error, b)
			}
			if d.State != "connected" || d.Selected == nil {
				t.Fatalf("state %q selected %v", d.State, d.Selected)
			}
			if d.Selected.Remote.Type != "relay" {
				t.Errorf("selected remote %s, want relay (the peer is relay-only)", d.Selected.Remote.Type)
			}
			if tc.wantVia != "" && d.SelectedVia != tc.wantVia {
				t.Errorf("selected via %q, want %q", d.SelectedVia, tc.wantVia)
			}
			if tc.transport == probe.TransportTCP && d.Media.Transport != "tcp" {
				t.Errorf("media transport %q, want tcp", d.Media.Transport)
			}
			m := d.Media
			if m == nil {
				t.Fatal("no media stats")
			}
			if m.Sent != 50 {
				t.Errorf("sent %d packets in 1 s, want 50 (20 ms packetisation)", m.Sent)
			}
			if m.LossPct > 2 {
				t.Errorf("loss %.1f%% on loopback", m.LossPct)
			}
			if m.MOS < 4.2 || m.Grade != "excellent" {
				t.Errorf("MOS %.2f (%s) on loopback", m.MOS, m.Grade)
			}
			if m.PacketBytes != 172 {
				t.Errorf("packet %d bytes, want 172 (RTP 12 + G.711 160)", m.PacketBytes)
			}
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), testPass) {
				t.Error("the TURN password is in the JSON evidence")
			}
			t.Logf("gathering %.1f ms, connected %.1f ms, via %s, %d pairs, media %+v", d.GatheringMS, d.ConnectedMS, d.SelectedVia, len(d.Pairs), *m)
		})
	}
}

func TestNoTURNCredentials(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: 3478, Mode: string(ModeRelayRelay)}
	res := runCheck(t, loopbackChecker(), spec, &probe.Config{}, 5*time.Second)
	if res.Status != probe.StatusFail || res.Class != probe.ClassAuth {
		t.Fatalf("status %s class %s, want fail/auth", res.Status, res.Class)
	}
	if !strings.Contains(res.Error, "--turn-user") {
		t.Errorf("error does not say what to give: %s", res.Error)
	}
	if res.Details.ICE.TURNCredentials != "none" {
		t.Errorf("turn_credentials %q", res.Details.ICE.TURNCredentials)
	}
}

func TestWrongTURNPassword(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startTURN(t, "127.0.0.2")
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeOneEnded)}
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: testUser, Password: "wrong-password-xyz"}}
	res := runCheck(t, loopbackChecker(), spec, cfg, 8*time.Second)
	d := res.Details.ICE
	if res.Status != probe.StatusFail || !errors.Is(errorOf(res), ErrNoCandidates) {
		t.Fatalf("status %s class %s err %s", res.Status, res.Class, res.Error)
	}
	if len(d.GatherErrors) == 0 {
		t.Error("no gather errors recorded")
	}
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), "wrong-password-xyz") {
		t.Error("the TURN password is in the evidence")
	}
	t.Logf("%s: %s %v", res.Class, res.Error, d.GatherErrors)
}

// errorOf recovers the sentinel from the result's text for tests.
func errorOf(r probe.Result) error {
	for _, e := range []error{ErrNoCandidates, ErrICEFailed, ErrNoTURNCredentials, ErrNotResponder, ErrTokenRejected, ErrICEOff, probe.ErrResponderUntrusted} {
		if strings.Contains(r.Error, e.Error()) {
			return e
		}
	}
	return errors.New(r.Error)
}

// A TURN server that never answers (a UDP socket that swallows
// everything): gathering is cut at its bound, the check ends with a
// timeout well inside its deadline and leaves nothing running.
func TestSilentTURN(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	pc, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	port := pc.LocalAddr().(*net.UDPAddr).Port
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeOneEnded), Transport: probe.TransportUDP}
	start := time.Now()
	res := runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: creds(), Media: time.Second}, 15*time.Second)
	took := time.Since(start)
	d := res.Details.ICE
	if res.Status != probe.StatusFail || res.Class != probe.ClassTimeout || !d.GatherTimedOut {
		t.Fatalf("%s %s (gather cut %v): %s", res.Status, res.Class, d.GatherTimedOut, res.Error)
	}
	if took > 4*time.Second {
		t.Errorf("took %v; gathering is bounded at %v", took, DefaultTiming.Gather)
	}
}

// The media window shrinks to fit the check's deadline before it starts
// (a planned fit, said so by requested_s; not a cut), and measures up to
// the grace for late echoes.
func TestMediaCutByDeadline(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startTURN(t, "127.0.0.2")
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeRelayRelay), Transport: probe.TransportUDP}
	res := runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: creds(), Media: 5 * time.Second}, 3*time.Second)
	m := res.Details.ICE.Media
	if res.Status != probe.StatusPass || m == nil || m.CutShort || m.RequestedS != 5 {
		t.Fatalf("%s %s: %s media %+v", res.Status, res.Class, res.Error, m)
	}
	// The window is what the deadline left once ICE had connected, less
	// the 200 ms grace and 100 ms of reporting, and never below the
	// gradable minimum (else it is skipped): one packet per 20 ms of it,
	// all sent (not cut). The connect's own duration is measured, so the
	// bound holds however long a busy machine took to connect.
	const interval = 20 * time.Millisecond
	fits := 3*time.Second - time.Duration(res.Details.ICE.ConnectedMS*float64(time.Millisecond)) - 300*time.Millisecond
	switch {
	case fits < probe.MinMediaWindow:
		// A machine so busy that connecting took most of the deadline:
		// the window is below the gradable minimum, skipped with a note.
		if m.Skipped == "" || m.Sent != 0 {
			t.Errorf("sent %d (%q): the %v left is below the gradable %v, want it skipped", m.Sent, m.Skipped, fits, probe.MinMediaWindow)
		}
		return
	case m.Skipped != "" || time.Duration(m.Sent)*interval < probe.MinMediaWindow || time.Duration(m.Sent)*interval > fits+time.Millisecond:
		t.Errorf("sent %d (%q), want %v to %v of packets at %v: connected after %v ms", m.Sent, m.Skipped, probe.MinMediaWindow, fits, interval, res.Details.ICE.ConnectedMS)
	}
	if m.Received < m.Sent-2 {
		t.Errorf("sent %d received %d", m.Sent, m.Received)
	}
	t.Logf("connected after %v ms, %d packets sent (at most %v of them)", res.Details.ICE.ConnectedMS, m.Sent, fits)
}

// The debug log (--debug) never carries the TURN password.
func TestDebugLogHasNoSecrets(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startTURN(t, "127.0.0.2")
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, pass := range []string{testPass, "wrong-password-xyz"} {
		spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.2", Port: port, Mode: string(ModeRelayRelay), Transport: probe.TransportUDP}
		cfg := &probe.Config{TURN: probe.TURNCredentials{Username: testUser, Password: probe.Secret(pass)}, Logger: logger}
		runCheck(t, loopbackChecker(), spec, cfg, 5*time.Second)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "ice check") {
		t.Fatalf("nothing logged: %q", buf.String())
	}
	for _, s := range []string{testPass, "wrong-password-xyz"} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("password %q in the debug log", s)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// fakeDNS answers one made-up name and counts its lookups; every other
// name does not exist (no test reaches a real resolver).
type fakeDNS struct {
	mu     sync.Mutex
	name   string
	addr   netip.Addr
	lookup int
}

func (f *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if host != f.name {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	f.lookup++
	return []netip.Addr{f.addr}, nil
}

// TestICEUsesRunResolver: pion's lookups of the TURN server's name go
// through the run's resolver (cfg.Resolver), as every probe's do.
func TestICEUsesRunResolver(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startTURN(t, "127.0.0.2")
	dns := &fakeDNS{name: "turn.ucprobe.invalid", addr: netip.MustParseAddr("127.0.0.2")}
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: dns.name, Port: port, Mode: string(ModeRelayRelay), Transport: probe.TransportUDP}
	cfg := &probe.Config{TURN: creds(), Media: 0, Resolver: dns}
	res := runCheck(t, loopbackChecker(), spec, cfg, 10*time.Second)
	if res.Status != probe.StatusPass {
		t.Fatalf("status %s class %s: %s", res.Status, res.Class, res.Error)
	}
	dns.mu.Lock()
	defer dns.mu.Unlock()
	if dns.lookup == 0 {
		t.Error("the run's resolver was never asked for the TURN server's name")
	}
}

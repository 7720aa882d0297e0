package probe_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// pionTURN is pion's TURN server in-process on 127.0.0.1 (fast unit
// tests; coturn covers the real-server side), over UDP, TCP and TLS.
type pionTURN struct {
	UDPPort, TCPPort, TLSPort int
	CAPool                    *x509.CertPool
	Close                     func()
}

// pionRelays hands out relays on 127.0.0.1; with maxAllocs > 0 it refuses
// allocations after that many (a quota).
type pionRelays struct {
	turn.RelayAddressGeneratorStatic
	maxAllocs int // 0: no quota; -1: refuse every allocation
	// hold, when set, keeps the refused allocations waiting until closed
	// (a server that stops answering).
	hold chan struct{}
	mu   sync.Mutex
	n    int
}

func (g *pionRelays) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	g.mu.Lock()
	g.n++
	over := g.maxAllocs != 0 && g.n > max(g.maxAllocs, 0)
	g.mu.Unlock()
	if over {
		if g.hold != nil {
			<-g.hold
		}
		return nil, nil, errors.New("allocation quota reached")
	}
	return g.RelayAddressGeneratorStatic.AllocatePacketConn(c)
}

// loopbackRelays hands out relays on 127.0.0.1.
func loopbackRelays() turn.RelayAddressGeneratorStatic {
	return turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}
}

func startPionTURN(t testing.TB, user, pass string, maxAllocs int) *pionTURN {
	t.Helper()
	return startPionTURNWith(t, user, pass, &pionRelays{RelayAddressGeneratorStatic: loopbackRelays(), maxAllocs: maxAllocs}, nil)
}

// startPionTURNWith starts pion's server with user's long-term credentials
// on UDP, TCP and TLS. gen hands out the relays (nil: loopbackRelays);
// perm filters peers (nil: pion's default admits every peer, the other
// allocation's relayed address included, for relay to relay over TCP/TLS).
func startPionTURNWith(t testing.TB, user, pass string, gen turn.RelayAddressGenerator, perm turn.PermissionHandler) *pionTURN {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ca := probetest.NewCA(t, "pion TURN test CA")
	tlsl, err := tls.Listen("tcp4", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.LoopbackLeaf(t)}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	if gen == nil {
		static := loopbackRelays()
		gen = &static
	}
	const realm = "pion.test"
	key := turn.GenerateAuthKey(user, realm, pass)
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: realm, LoggerFactory: quiet,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == user
		},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: gen, PermissionHandler: perm}},
		ListenerConfigs: []turn.ListenerConfig{{Listener: tl, RelayAddressGenerator: gen, PermissionHandler: perm},
			{Listener: tlsl, RelayAddressGenerator: gen, PermissionHandler: perm}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &pionTURN{Close: func() { _ = srv.Close() },
		UDPPort: pc.LocalAddr().(*net.UDPAddr).Port, TCPPort: tl.Addr().(*net.TCPAddr).Port, TLSPort: tlsl.Addr().(*net.TCPAddr).Port,
		CAPool: ca.Pool(),
	}
}

func TestTURNPionServer(t *testing.T) {
	srv := startPionTURN(t, "bob", "pion-pass-1", 0)
	for _, tc := range []struct {
		tr         probe.Transport
		user, pass string
		status     probe.Status
		class      probe.ErrorClass
	}{
		{probe.TransportUDP, "bob", "pion-pass-1", probe.StatusPass, ""},
		{probe.TransportTCP, "bob", "pion-pass-1", probe.StatusPass, ""},
		{probe.TransportTLS, "bob", "pion-pass-1", probe.StatusPass, ""},
		{probe.TransportUDP, "bob", "nope-nope", probe.StatusFail, probe.ClassAuth},
		{probe.TransportTCP, "bob", "nope-nope", probe.StatusFail, probe.ClassAuth},
		{probe.TransportUDP, "mallory", "pion-pass-1", probe.StatusFail, probe.ClassAuth},
		// A user name without its password is no credentials (only the
		// challenge is tested), not a 401 to an empty password.
		{probe.TransportUDP, "bob", "", probe.StatusWarn, probe.ClassAuth},
	} {
		port := map[probe.Transport]int{probe.TransportUDP: srv.UDPPort, probe.TransportTCP: srv.TCPPort, probe.TransportTLS: srv.TLSPort}[tc.tr]
		cfg := &probe.Config{RootCAs: srv.CAPool, TURN: probe.TURNCredentials{Username: tc.user, Password: probe.Secret(tc.pass)}}
		spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port, Transport: tc.tr}
		res := runCheck(t, probe.TURN, spec, cfg, 2*time.Second)
		if res.Status != tc.status || res.Class != tc.class {
			t.Errorf("%s %s/%s: status %s class %q (%s)", tc.tr, tc.user, tc.pass, res.Status, res.Class, res.Error)
		}
		if d := res.Details.TURN; tc.status == probe.StatusPass {
			if d.RelaySent != probe.TURNRelayCount || d.RelayReceived != probe.TURNRelayCount || d.MappedAddr == "" {
				t.Errorf("%s: details %+v", tc.tr, d)
			}
			assertRelayPeer(t, tc.tr, d, "127.0.0.1")
		}
		if d := res.Details.TURN; tc.pass == "" && (d.Credentials != probe.CredNone || d.Realm != "pion.test" || !strings.Contains(res.Error, probe.ErrTURNNoPassword.Error())) {
			t.Errorf("user without password: credentials %q realm %q: %s", d.Credentials, d.Realm, res.Error)
		}
		assertNoSecret(t, res, tc.pass)
	}
}

// A server that refuses the second allocation (a quota): over TCP the
// check falls back to the UDP socket peer and says why.
func TestTURNPionRelayPeerRefused(t *testing.T) {
	srv := startPionTURN(t, "bob", "pion-pass-1", 1)
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: "pion-pass-1"}}
	spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: srv.TCPPort, Transport: probe.TransportTCP}
	res := runCheck(t, probe.TURN, spec, cfg, 2*time.Second)
	d := res.Details.TURN
	if res.Status != probe.StatusPass || d.RelayPeer != probe.TURNPeerUDP || d.RelayPeerError == "" || d.RelayReceived != probe.TURNRelayCount {
		t.Fatalf("status %s (%s): relay peer %q (error %q), %d/%d echoed", res.Status, res.Error, d.RelayPeer, d.RelayPeerError, d.RelayReceived, d.RelaySent)
	}
	t.Logf("relay peer error: %s", d.RelayPeerError)
	if d.ErrorCode != 0 {
		t.Errorf("the peer's refusal leaked into our error code: %d %s", d.ErrorCode, d.ErrorReason)
	}
	assertNoSecret(t, res, "pion-pass-1")
}

// The check's context ends while the second allocation waits for the
// server: the check returns, and nothing of it is left running (both
// clients closed). No fallback to a UDP peer once the context is over.
// The server had answered (the first allocation worked): the check is a
// partial result cut by the deadline (warn, canceled), not a failure.
func TestTURNPionRelayPeerCancelled(t *testing.T) {
	before := runtime.NumGoroutine()
	hold := make(chan struct{})
	srv := startPionTURNWith(t, "bob", "pion-pass-1", &pionRelays{RelayAddressGeneratorStatic: loopbackRelays(), maxAllocs: 1, hold: hold}, nil)
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: "pion-pass-1"}}
	spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: srv.TCPPort, Transport: probe.TransportTCP}
	// The second allocation is held forever, so the deadline always
	// cuts it; 3 s leaves the first one room on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	res := probe.TURN(ctx, spec, cfg)
	cancel()
	d := res.Details.TURN
	if res.Status != probe.StatusWarn || res.Class != probe.ClassCanceled || !strings.Contains(res.Error, probe.ErrCutAfterAnswer.Error()) ||
		d.RelayPeer != probe.TURNPeerRelay || d.RelayedAddr == "" || d.RelaySent != 0 {
		t.Errorf("status %s class %q (%s): relay peer %q, relayed %q, %d sent", res.Status, res.Class, res.Error, d.RelayPeer, d.RelayedAddr, d.RelaySent)
	}
	assertNoSecret(t, res, "pion-pass-1")
	close(hold)
	srv.Close()
	probetest.WaitGoroutines(t, before, 5*time.Second)
}

// Benchmarks (not timed tests): go test -bench . ./probe/
func BenchmarkTURNPionUDP(b *testing.B) {
	port := startPionTURN(b, "bob", "pion-pass-1", 0).UDPPort
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: "pion-pass-1"}}
	spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port, Transport: probe.TransportUDP}
	benchCheck(b, probe.TURN, spec, cfg)
}

func BenchmarkSTUNCoturnUDP(b *testing.B) {
	ct := probetest.StartCoturn(b, probetest.CoturnOptions{Single: true})
	spec := probe.Spec{ID: "stun", Kind: probe.KindSTUN, Host: ct.IP, Port: ct.Port, Transport: probe.TransportUDP}
	benchCheck(b, probe.STUN, spec, &probe.Config{})
}

func BenchmarkTURNCoturnUDP(b *testing.B) {
	ct := probetest.StartCoturn(b, probetest.CoturnOptions{Single: true})
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: ct.User, Password: probe.Secret(ct.Pass)}}
	spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: ct.IP, Port: ct.Port, Transport: probe.TransportUDP}
	benchCheck(b, probe.TURN, spec, cfg)
}

func benchCheck(b *testing.B, p probe.Prober, spec probe.Spec, cfg *probe.Config) {
	b.Helper()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		res := p(ctx, spec, cfg)
		cancel()
		if res.Status != probe.StatusPass {
			b.Fatalf("%s: %s %s", res.Status, res.Class, res.Error)
		}
	}
}

// TestTURNLeavesNothingRunning: when TURN returns while its context is
// still live, the session's watchers (the read-failure watch and the
// silence watch, which feeds the run's clock) have already ended: none
// outlives the check.
func TestTURNLeavesNothingRunning(t *testing.T) {
	srv := startPionTURN(t, "bob", "pion-pass-1", 0)
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: "pion-pass-1"}}
	for _, tr := range []probe.Transport{probe.TransportUDP, probe.TransportTCP} {
		port := map[probe.Transport]int{probe.TransportUDP: srv.UDPPort, probe.TransportTCP: srv.TCPPort}[tr]
		spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port, Transport: tr}
		for range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			res := probe.TURN(ctx, spec, cfg)
			buf := make([]byte, 1<<20)
			stacks := string(buf[:runtime.Stack(buf, true)])
			cancel()
			if res.Status != probe.StatusPass {
				t.Fatalf("%s: status %s (%s)", tr, res.Status, res.Error)
			}
			for _, fn := range []string{"silenceWatch", "probe.turnOpen.func"} {
				if strings.Contains(stacks, fn) {
					t.Fatalf("%s: a goroutine in %s is still running after TURN returned", tr, fn)
				}
			}
		}
	}
}

// TestTURNCutWhileAllocating: the server answered the challenge, then the
// run's deadline ended the check while its allocation was still pending
// (a slow path): a partial result (warn, canceled), not a failure.
func TestTURNCutWhileAllocating(t *testing.T) {
	hold := make(chan struct{})
	srv := startPionTURNWith(t, "bob", "pion-pass-1", &pionRelays{RelayAddressGeneratorStatic: loopbackRelays(), maxAllocs: -1, hold: hold}, nil)
	defer close(hold)
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: "pion-pass-1"}}
	spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: srv.UDPPort, Transport: probe.TransportUDP}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res := probe.TURN(ctx, spec, cfg)
	if res.Status != probe.StatusWarn || res.Class != probe.ClassCanceled || !strings.Contains(res.Error, probe.ErrCutAfterAnswer.Error()) {
		t.Errorf("status %s class %q (%s), want a partial warn (canceled) cut after the answer", res.Status, res.Class, res.Error)
	}
	if d := res.Details.TURN; d.Answers == 0 || d.Stage != probe.TURNStageAllocate {
		t.Errorf("answers %d at stage %q, want the challenge answered and the allocation pending", d.Answers, d.Stage)
	}
}

package probe_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// startPionTURN runs pion's TURN server in-process on 127.0.0.1 (fast unit
// tests; coturn covers the real-server side).
func startPionTURN(t testing.TB, user, pass string) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const realm = "pion.test"
	key := turn.GenerateAuthKey(user, realm, pass)
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == user
		},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func TestTURNPionServer(t *testing.T) {
	port := startPionTURN(t, "bob", "pion-pass-1")
	for _, tc := range []struct {
		user, pass string
		status     probe.Status
		class      probe.ErrorClass
	}{
		{"bob", "pion-pass-1", probe.StatusPass, ""},
		{"bob", "nope-nope", probe.StatusFail, probe.ClassAuth},
		{"mallory", "pion-pass-1", probe.StatusFail, probe.ClassAuth},
	} {
		cfg := &probe.Config{TURN: probe.TURNCredentials{Username: tc.user, Password: probe.Secret(tc.pass)}}
		spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port, Transport: probe.TransportUDP}
		res := runCheck(t, probe.TURN, spec, cfg, 2*time.Second)
		if res.Status != tc.status || res.Class != tc.class {
			t.Errorf("%s/%s: status %s class %q (%s)", tc.user, tc.pass, res.Status, res.Class, res.Error)
		}
		if d := res.Details.TURN; tc.status == probe.StatusPass && (d.RelayReceived != probe.TURNRelayCount || d.MappedAddr == "") {
			t.Errorf("details %+v", d)
		}
		assertNoSecret(t, res, tc.pass)
	}
}

// Benchmarks (not timed tests): go test -bench . ./probe/
func BenchmarkTURNPionUDP(b *testing.B) {
	port := startPionTURN(b, "bob", "pion-pass-1")
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

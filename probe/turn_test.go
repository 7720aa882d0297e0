package probe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

func runCheck(t *testing.T, p probe.Prober, spec probe.Spec, cfg *probe.Config, timeout time.Duration) probe.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	res := p(ctx, spec, cfg)
	if took := time.Since(start); took > timeout+500*time.Millisecond {
		t.Errorf("%s took %s, over its bound %s", spec.ID, took, timeout)
	}
	return res
}

func TestTURNCoturn(t *testing.T) {
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{TLS: true})
	good := &probe.Config{RootCAs: ct.CAPool, TURN: probe.TURNCredentials{Username: ct.User, Password: probe.Secret(ct.Pass)}}
	bad := &probe.Config{RootCAs: ct.CAPool, TURN: probe.TURNCredentials{Username: ct.User, Password: "wrong-password"}}
	none := &probe.Config{RootCAs: ct.CAPool}
	cases := []struct {
		name      string
		tr        probe.Transport
		port      int
		cfg       *probe.Config
		status    probe.Status
		class     probe.ErrorClass
		code      int
		relayBack bool
	}{
		{"udp", probe.TransportUDP, ct.Port, good, probe.StatusPass, "", 0, true},
		{"tcp", probe.TransportTCP, ct.Port, good, probe.StatusPass, "", 0, true},
		{"tls", probe.TransportTLS, ct.TLSPort, good, probe.StatusPass, "", 0, true},
		{"dtls", probe.TransportDTLS, ct.TLSPort, good, probe.StatusPass, "", 0, true},
		{"dtls wrong password", probe.TransportDTLS, ct.TLSPort, bad, probe.StatusFail, probe.ClassAuth, 401, false},
		{"udp wrong password", probe.TransportUDP, ct.Port, bad, probe.StatusFail, probe.ClassAuth, 401, false},
		{"tcp wrong password", probe.TransportTCP, ct.Port, bad, probe.StatusFail, probe.ClassAuth, 401, false},
		{"no credentials", probe.TransportUDP, ct.Port, none, probe.StatusWarn, probe.ClassAuth, 401, false},
		{"tls without trust", probe.TransportTLS, ct.TLSPort, &probe.Config{TURN: good.TURN}, probe.StatusFail, probe.ClassTLS, 0, false},
		{"dtls without trust", probe.TransportDTLS, ct.TLSPort, &probe.Config{TURN: good.TURN}, probe.StatusFail, probe.ClassTLS, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: ct.IP, Port: tc.port, Transport: tc.tr}
			res := runCheck(t, probe.TURN, spec, tc.cfg, 3*time.Second)
			d := res.Details.TURN
			if res.Status != tc.status || res.Class != tc.class {
				t.Fatalf("status %s class %q (%s), want %s %q; details %+v", res.Status, res.Class, res.Error, tc.status, tc.class, d)
			}
			if d.ErrorCode != tc.code {
				t.Errorf("error code %d, want %d", d.ErrorCode, tc.code)
			}
			if tc.relayBack {
				if d.RelaySent != probe.TURNRelayCount || d.RelayReceived != probe.TURNRelayCount {
					t.Errorf("relay sent %d received %d, want %d each", d.RelaySent, d.RelayReceived, probe.TURNRelayCount)
				}
				if !strings.HasPrefix(d.RelayedAddr, ct.IP+":") || !strings.HasPrefix(d.MappedAddr, "127.0.0.1:") {
					t.Errorf("relayed %q mapped %q", d.RelayedAddr, d.MappedAddr)
				}
				if d.LifetimeS <= 0 || !strings.Contains(d.Software, "Coturn") || d.Stage != probe.TURNStageDone {
					t.Errorf("lifetime %d software %q stage %s", d.LifetimeS, d.Software, d.Stage)
				}
				for _, s := range []string{"connect", "challenge", "allocate", "permission", "first_relay"} {
					if _, ok := d.Steps[s]; !ok {
						t.Errorf("no step %s in %v", s, d.Steps)
					}
				}
				assertRelayPeer(t, tc.tr, d, ct.IP)
			}
			assertNoSecret(t, res, ct.Pass, "wrong-password", ct.Secret)
		})
	}
}

func TestTURNRESTCoturn(t *testing.T) {
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{AuthSecret: true, Single: true})
	for _, tc := range []struct {
		secret string
		status probe.Status
		class  probe.ErrorClass
	}{{ct.Secret, probe.StatusPass, ""}, {"not-the-secret", probe.StatusFail, probe.ClassAuth}} {
		cfg := &probe.Config{TURN: probe.TURNCredentials{SharedSecret: probe.Secret(tc.secret)}}
		spec := probe.Spec{ID: "turn-rest", Kind: probe.KindTURN, Host: ct.IP, Port: ct.Port, Transport: probe.TransportUDP}
		res := runCheck(t, probe.TURN, spec, cfg, 3*time.Second)
		if res.Status != tc.status || res.Class != tc.class {
			t.Errorf("secret %q: status %s class %q (%s)", tc.secret, res.Status, res.Class, res.Error)
		}
		d := res.Details.TURN
		if d.Credentials != "rest" || !strings.HasSuffix(d.Username, ":ucprobe") {
			t.Errorf("credentials %q user %q", d.Credentials, d.Username)
		}
		assertNoSecret(t, res, tc.secret)
	}
}

// A stopped server: refused on UDP (ICMP port unreachable on the connected
// socket) and TCP, within the bound.
func TestTURNStopped(t *testing.T) {
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true})
	ct.Stop()
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "u", Password: "p"}}
	for _, tr := range []probe.Transport{probe.TransportUDP, probe.TransportTCP} {
		spec := probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: ct.IP, Port: ct.Port, Transport: tr}
		res := runCheck(t, probe.TURN, spec, cfg, 2*time.Second)
		if res.Status != probe.StatusFail || res.Class != probe.ClassRefused {
			t.Errorf("%s: status %s class %q (%s), want fail refused", tr, res.Status, res.Class, res.Error)
		}
	}
}

// assertRelayPeer: over TCP and TLS the echo runs relay to relay through
// a second allocation on relayIP; over UDP and DTLS from a UDP socket.
func assertRelayPeer(t *testing.T, tr probe.Transport, d *probe.TURNDetails, relayIP string) {
	t.Helper()
	if tr == probe.TransportTCP || tr == probe.TransportTLS {
		if d.RelayPeer != probe.TURNPeerRelay || !strings.HasPrefix(d.PeerRelayedAddr, relayIP+":") ||
			d.PeerRelayedAddr == d.RelayedAddr || d.RelayPeerError != "" {
			t.Errorf("%s: relay peer %q at %q (ours %q, error %q), want a second allocation on %s", tr, d.RelayPeer, d.PeerRelayedAddr, d.RelayedAddr, d.RelayPeerError, relayIP)
		}
		if _, ok := d.Steps["peer_allocate"]; !ok {
			t.Errorf("no step peer_allocate in %v", d.Steps)
		}
		return
	}
	if d.RelayPeer != probe.TURNPeerUDP || d.PeerRelayedAddr != "" {
		t.Errorf("%s: relay peer %q at %q, want %q", tr, d.RelayPeer, d.PeerRelayedAddr, probe.TURNPeerUDP)
	}
}

func assertNoSecret(t *testing.T, res probe.Result, secrets ...string) {
	t.Helper()
	b, _ := json.Marshal(res)
	text := string(b) + fmt.Sprintf("%v %+v %#v", res, res, res)
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("secret %q leaked into the result: %s", s, b)
		}
	}
}

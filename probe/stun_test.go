package probe_test

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

func TestSTUNCoturn(t *testing.T) {
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{TLS: true})
	cfg := &probe.Config{RootCAs: ct.CAPool}
	for _, tc := range []struct {
		tr   probe.Transport
		port int
	}{{probe.TransportUDP, ct.Port}, {probe.TransportTCP, ct.Port}, {probe.TransportTLS, ct.TLSPort}} {
		t.Run(string(tc.tr), func(t *testing.T) {
			spec := probe.Spec{ID: "stun", Kind: probe.KindSTUN, Host: ct.IP, Port: tc.port, Transport: tc.tr}
			res := runCheck(t, probe.STUN, spec, cfg, 3*time.Second)
			d := res.Details.STUN
			if res.Status != probe.StatusPass {
				t.Fatalf("status %s class %s: %s", res.Status, res.Class, res.Error)
			}
			if d.MappedAddr != d.LocalAddr || d.Asymmetric || d.Attempts != 1 || d.Interface != "lo" {
				t.Errorf("mapped %q local %q asymmetric %v attempts %d interface %q", d.MappedAddr, d.LocalAddr, d.Asymmetric, d.Attempts, d.Interface)
			}
			if tc.tr != probe.TransportUDP {
				return
			}
			// coturn on two addresses offers RFC 5780; on loopback there is
			// no NAT, and nothing filters.
			if want := net.JoinHostPort(ct.AltIP, strconv.Itoa(ct.Port+1)); d.OtherAddress != want {
				t.Errorf("other address %q, want %q", d.OtherAddress, want)
			}
			n := d.NAT
			if n == nil || !n.RFC5780 || n.Mapping != probe.NATNone || n.Filtering != probe.NATEndpointIndependent {
				t.Fatalf("nat %+v", n)
			}
			if len(n.Mapped) != 2 {
				t.Errorf("mapped per server %v, want primary and alternate", n.Mapped)
			}
		})
	}
}

// Extra STUN servers (--stun) from the same socket: without RFC 5780 the
// mapping is compared across servers.
func TestSTUNExtraServers(t *testing.T) {
	a := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true})
	b := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true})
	cfg := &probe.Config{ExtraSTUN: []string{b.Addr(), "not a host:port:x"}}
	spec := probe.Spec{ID: "stun", Kind: probe.KindSTUN, Host: a.IP, Port: a.Port, Transport: probe.TransportUDP}
	res := runCheck(t, probe.STUN, spec, cfg, 3*time.Second)
	n := res.Details.STUN.NAT
	if res.Status != probe.StatusPass || n == nil || n.RFC5780 || n.Mapping != probe.NATNone || len(n.Mapped) != 2 || n.Mapped[b.Addr()] == "" {
		t.Fatalf("status %s (%s), nat %+v", res.Status, res.Error, n)
	}
}

// Bad servers: each ends in its class within the bound.
func TestSTUNBadServers(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	garbage, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	done := make(chan struct{})
	go func() { // answers every datagram with junk, until closed
		defer close(done)
		buf := make([]byte, 1500)
		for i := 0; i < 100; i++ {
			_, from, err := garbage.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = garbage.WriteTo([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"), from)
		}
	}()
	defer func() { garbage.Close(); <-done }()
	closed := closedUDPPort(t)
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "u", Password: "p"}}
	cases := []struct {
		name  string
		p     probe.Prober
		kind  probe.Kind
		port  int
		class probe.ErrorClass
	}{
		{"stun silent", probe.STUN, probe.KindSTUN, silent.LocalAddr().(*net.UDPAddr).Port, probe.ClassTimeout},
		{"stun closed port", probe.STUN, probe.KindSTUN, closed, probe.ClassRefused},
		{"stun garbage", probe.STUN, probe.KindSTUN, garbage.LocalAddr().(*net.UDPAddr).Port, probe.ClassProtocol},
		{"turn silent", probe.TURN, probe.KindTURN, silent.LocalAddr().(*net.UDPAddr).Port, probe.ClassTimeout},
		{"turn closed port", probe.TURN, probe.KindTURN, closed, probe.ClassRefused},
		{"turn garbage", probe.TURN, probe.KindTURN, garbage.LocalAddr().(*net.UDPAddr).Port, probe.ClassProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := probe.Spec{ID: "x", Kind: tc.kind, Host: "127.0.0.1", Port: tc.port, Transport: probe.TransportUDP}
			res := runCheck(t, tc.p, spec, cfg, 700*time.Millisecond)
			if res.Status != probe.StatusFail || res.Class != tc.class {
				t.Errorf("status %s class %q (%s), want fail %s", res.Status, res.Class, res.Error, tc.class)
			}
			if tc.class == probe.ClassTimeout && !strings.Contains(res.Error, "no answer") {
				t.Errorf("error %q", res.Error)
			}
		})
	}
}

func closedUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return p
}

package probe_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// freeUDPBlock finds n consecutive UDP ports free on ip (below the
// ephemeral range, so the test's own sockets do not take them meanwhile;
// ip is the test's own, probetest.LoopbackIP, so no other process does).
func freeUDPBlock(t *testing.T, ip string, n int) uint16 {
	t.Helper()
	addr := net.ParseIP(ip)
	for range 50 {
		base := 20000 + rand.IntN(9000)
		var held []*net.UDPConn
		ok := true
		for p := base; p < base+n; p++ {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: addr, Port: p})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return uint16(base)
		}
	}
	t.Fatalf("no free block of UDP ports on %s", ip)
	return 0
}

// startResponder serves UDP lo..hi on ip with its HTTP endpoint on a
// free port and returns the --responder value. Every port must be its:
// one another socket took meanwhile would answer (or not) in its stead.
func startResponder(t *testing.T, ip string, lo, hi uint16, token probe.Secret) (*responder.Server, string) {
	t.Helper()
	srv, err := responder.New(responder.Config{UDP: []responder.Span{{Lo: int(lo), Hi: int(hi)}}, Listen: ip,
		HTTP: net.JoinHostPort(ip, "0"), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if failed := srv.Info().UDPFailed; len(failed) > 0 {
		t.Fatalf("the responder could not bind %s on %s", responder.FormatSpans(failed), ip)
	}
	_, port, _ := net.SplitHostPort(srv.HTTPAddr())
	return srv, net.JoinHostPort(ip, port)
}

func sweepSpec(ip string, lo, hi uint16) probe.Spec {
	return probe.Spec{ID: "media-range", Kind: probe.KindUDPRange, Host: ip,
		Target: ip + ":" + strconv.Itoa(int(lo)) + "-" + strconv.Itoa(int(hi)),
		Ranges: []probe.PortRange{{First: lo, Last: hi}}, Timeout: 3 * time.Second}
}

func runSweep(t *testing.T, spec probe.Spec, cfg *probe.Config) (probe.Result, *probe.UDPRangeDetails) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
	defer cancel()
	res := probe.UDPRange(ctx, spec, cfg)
	d := res.Details.UDPRange
	if d == nil {
		t.Fatalf("no udp_range details: %+v", res)
	}
	return res, d
}

// The test's own loopback address (probetest.LoopbackIP): on 127.0.0.1,
// another package's tests running alongside could bind ports of the block
// between freeUDPBlock and the responder's bind, or probe them, and
// answers or sessions not this responder's made the receipts short
// ("arrived 58" of 250 open).
func TestUDPRangeAgainstResponder(t *testing.T) {
	ip := probetest.LoopbackIP(t)
	base := freeUDPBlock(t, ip, 300)
	served := base + 249 // 250 ports served, 50 not
	srv, resp := startResponder(t, ip, base, served, "")

	t.Run("every served port answers, with receipts", func(t *testing.T) {
		res, d := runSweep(t, sweepSpec(ip, base, served), &probe.Config{Responder: resp})
		if res.Status != probe.StatusPass || d.Open != 250 || d.Ports != 250 || d.Filtered+d.Closed != 0 {
			t.Fatalf("status %s %q, details %+v", res.Status, res.Error, d)
		}
		if d.Responder != "ucprobe" || !d.Receipts || d.Arrived != 250 || d.ReceiptsError != "" {
			t.Errorf("responder %q receipts %v arrived %d err %q", d.Responder, d.Receipts, d.Arrived, d.ReceiptsError)
		}
		if len(d.SubRanges) != 1 || d.SubRanges[0].Range != (probe.PortRange{First: base, Last: served}) || d.SubRanges[0].State != probe.PortOpen {
			t.Errorf("sub-ranges %+v", d.SubRanges)
		}
		// One round when the machine keeps up; a late answer costs a
		// retransmission, never a wrong state.
		if d.Sent < 250 || d.Rounds < 1 {
			t.Errorf("sent %d in %d rounds, want at least 250 in at least 1", d.Sent, d.Rounds)
		}
	})

	t.Run("ports the responder does not serve are not-served, not blocked", func(t *testing.T) {
		res, d := runSweep(t, sweepSpec(ip, base, base+299), &probe.Config{Responder: resp})
		if res.Status != probe.StatusPass || d.Open != 250 || d.NotServed != 50 {
			t.Fatalf("status %s %q, details %+v", res.Status, res.Error, d)
		}
		last := d.SubRanges[len(d.SubRanges)-1]
		if last.Range != (probe.PortRange{First: served + 1, Last: base + 299}) || last.State != probe.PortNotServed {
			t.Errorf("last sub-range %+v", last)
		}
	})

	t.Run("without a responder a closed port is closed (ICMP port unreachable) and reached", func(t *testing.T) {
		if !icmpQueue() {
			if runtime.GOOS == "linux" { // IP_RECVERR must work here
				t.Fatal("the ICMP error queue could not be enabled")
			}
			t.Skipf("%s queues no ICMP errors on unconnected sockets", runtime.GOOS)
		}
		res, d := runSweep(t, sweepSpec(ip, served-9, served+10), &probe.Config{})
		// Closed proves the host was reached: without receipts that is
		// not a block.
		if d.Open != 10 || d.Closed != 10 || res.Status != probe.StatusPass {
			t.Fatalf("status %s/%s %q, details %+v", res.Status, res.Class, res.Error, d)
		}
		if d.Receipts || d.Responder != "ucprobe" {
			t.Errorf("receipts %v responder %q", d.Receipts, d.Responder)
		}
	})

	t.Run("local ports inside the configured range", func(t *testing.T) {
		spec := sweepSpec(ip, base, base+9)
		spec.LocalRange = &probe.PortRange{First: 49152, Last: 65535}
		_, d := runSweep(t, spec, &probe.Config{Responder: resp})
		_, p, _ := net.SplitHostPort(d.LocalAddr)
		if n, _ := strconv.Atoi(p); n < 49152 || d.Open != 10 {
			t.Errorf("local %s, open %d", d.LocalAddr, d.Open)
		}
	})
	if st := srv.Stats(); st.Answered == 0 {
		t.Errorf("responder stats %+v", st)
	}
}

func icmpQueue() bool {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return false
	}
	defer c.Close()
	return probe.EnableICMPErrors(c)
}

func TestUDPRangeToken(t *testing.T) {
	ip := probetest.LoopbackIP(t)
	base := freeUDPBlock(t, ip, 20)
	srv, resp := startResponder(t, ip, base, base+19, "s3cret-token")
	pin := srv.Fingerprint()
	t.Run("right token", func(t *testing.T) {
		res, d := runSweep(t, sweepSpec(ip, base, base+19), &probe.Config{Responder: resp, ResponderToken: "s3cret-token", ResponderFingerprint: pin})
		if res.Status != probe.StatusPass || d.Open != 20 || !d.Receipts || d.Responder != "ucprobe" {
			t.Fatalf("status %s %q, details %+v", res.Status, res.Error, d)
		}
	})
	t.Run("wrong token: the responder stays silent and refuses receipts", func(t *testing.T) {
		spec := sweepSpec(ip, base, base+19)
		spec.Timeout = 2 * time.Second
		res, d := runSweep(t, spec, &probe.Config{Responder: resp, ResponderToken: "wrong", ResponderFingerprint: pin})
		// Silence from a responder that refused the token is no block.
		if res.Status != probe.StatusFail || res.Class != probe.ClassAuth || d.Filtered != 20 || d.Responder != "none" || !d.TokenRefused {
			t.Fatalf("status %s/%s %q, details %+v", res.Status, res.Class, res.Error, d)
		}
		if d.Receipts || d.ReceiptsError == "" {
			t.Errorf("receipts %v error %q, want a 401 error", d.Receipts, d.ReceiptsError)
		}
		if strings.Contains(d.ReceiptsError, "s3cret") {
			t.Errorf("the token leaked: %q", d.ReceiptsError)
		}
	})
	t.Run("preflight", func(t *testing.T) {
		ctx := context.Background()
		if err := probe.CheckResponderToken(ctx, &probe.Config{Responder: resp, ResponderToken: "wrong", ResponderFingerprint: pin}); !errors.Is(err, probe.ErrResponderToken) || strings.Contains(err.Error(), "wrong") {
			t.Errorf("wrong token: %v", err)
		}
		// A token goes only to a certificate that is pinned or verifies:
		// this one is self-signed, so without the pin nothing is sent.
		for _, fp := range []string{"", "SHA256:" + strings.Repeat("0", 64)} {
			err := probe.CheckResponderToken(ctx, &probe.Config{Responder: resp, ResponderToken: "s3cret-token", ResponderFingerprint: fp})
			if !errors.Is(err, probe.ErrResponderUntrusted) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
				t.Errorf("pin %q: %v, want one line of ErrResponderUntrusted", fp, err)
			}
		}
		if err := probe.CheckResponderToken(ctx, &probe.Config{Responder: resp}); !errors.Is(err, probe.ErrResponderToken) {
			t.Errorf("no token: %v", err)
		}
		if err := probe.CheckResponderToken(ctx, &probe.Config{Responder: resp, ResponderToken: "s3cret-token", ResponderFingerprint: pin}); err != nil {
			t.Errorf("right token: %v", err)
		}
		// Not reachable: not bad input, the checks report it.
		if err := probe.CheckResponderToken(ctx, &probe.Config{Responder: "127.0.0.1:1"}); err != nil {
			t.Errorf("unreachable responder: %v", err)
		}
	})
}

// A plain RFC 5389 server (coturn) can be the far end: answers count as
// open; there are no receipts.
func TestUDPRangeAgainstCoturn(t *testing.T) {
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{})
	port := uint16(ct.Port)
	spec := probe.Spec{ID: "stun-range", Kind: probe.KindUDPRange, Host: ct.IP,
		Ranges: []probe.PortRange{{First: port, Last: port}}, Timeout: 2 * time.Second}
	res, d := runSweep(t, spec, &probe.Config{})
	if res.Status != probe.StatusPass || d.Open != 1 || d.Responder != "stun" {
		t.Fatalf("status %s %q, details %+v", res.Status, res.Error, d)
	}
}

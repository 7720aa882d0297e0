package probe_test

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// startSIPp runs sipp (Debian sip-tester) as the SIP peer with one of the
// testdata scenarios, on 127.0.0.1 and a free port; it is killed on cleanup.
func startSIPp(t *testing.T, scenario string, tr probe.Transport) int {
	t.Helper()
	bin := probetest.NeedBinary(t, "sipp", "sip-tester")
	port := closedUDPPort(t)
	mode := "u1"
	if tr == probe.TransportTCP {
		mode = "t1"
	}
	sf, _ := filepath.Abs(filepath.Join("testdata", scenario))
	cmd := exec.Command(bin, "-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", mode, "-m", "1", "-nostdin", "-timeout", "20s")
	cmd.Dir = t.TempDir()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Ready when the port is taken.
	taken := func() bool {
		if tr == probe.TransportTCP {
			c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 100*time.Millisecond)
			if err == nil {
				c.Close() // sipp takes the next connection as well
			}
			return err == nil
		}
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.EADDRINUSE)
	}
	if !probetest.Eventually(4*time.Second, taken) {
		t.Fatalf("sipp did not start on port %d", port)
	}
	return port
}

func TestSIPWithSIPp(t *testing.T) {
	cases := []struct {
		name      string
		scenario  string
		tr        probe.Transport
		status    probe.Status
		class     probe.ErrorClass
		code      int
		rewritten bool
	}{
		{"udp 200", "sipp-options-200.xml", probe.TransportUDP, probe.StatusPass, "", 200, false},
		{"tcp 200", "sipp-options-200.xml", probe.TransportTCP, probe.StatusPass, "", 200, false},
		{"udp 404 warns", "sipp-options-404.xml", probe.TransportUDP, probe.StatusWarn, probe.ClassProtocol, 404, true},
		{"udp 503 fails", "sipp-options-503.xml", probe.TransportUDP, probe.StatusFail, probe.ClassProtocol, 503, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := startSIPp(t, tc.scenario, tc.tr)
			spec := probe.Spec{ID: "sip", Kind: probe.KindSIP, Host: "127.0.0.1", Port: port, Transport: tc.tr}
			res := runCheck(t, probe.SIP, spec, &probe.Config{}, 3*time.Second)
			d := res.Details.SIP
			if res.Status != tc.status || res.Class != tc.class || d.StatusCode != tc.code {
				t.Fatalf("status %s class %q code %d (%s), want %s %q %d", res.Status, res.Class, d.StatusCode, res.Error, tc.status, tc.class, tc.code)
			}
			if d.Rewritten != tc.rewritten || d.ALG || d.UserAgent != "sipp-ucprobe-test" || d.RTTMS <= 0 {
				t.Errorf("details %+v", d)
			}
			if tc.rewritten && (d.Received != "192.0.2.99" || d.RPort != 40000) {
				t.Errorf("received %q rport %d", d.Received, d.RPort)
			}
		})
	}
}

func TestSIPNoServer(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for _, tc := range []struct {
		port  int
		tr    probe.Transport
		class probe.ErrorClass
	}{
		{closedUDPPort(t), probe.TransportUDP, probe.ClassRefused},
		{silent.LocalAddr().(*net.UDPAddr).Port, probe.TransportUDP, probe.ClassTimeout},
		{closedUDPPort(t), probe.TransportTCP, probe.ClassRefused},
	} {
		spec := probe.Spec{ID: "sip", Kind: probe.KindSIP, Host: "127.0.0.1", Port: tc.port, Transport: tc.tr}
		res := runCheck(t, probe.SIP, spec, &probe.Config{}, 600*time.Millisecond)
		if res.Status != probe.StatusFail || res.Class != tc.class {
			t.Errorf("%s %d: status %s class %q (%s)", tc.tr, tc.port, res.Status, res.Class, res.Error)
		}
	}
}

// OPTIONS over UDP is paced by the run's clock and judged silent after its
// UDP silence bound: Transmissions requests, the first wait one RTO of the
// path measured so far (not a schedule of SIP's own: it retransmitted at
// 200 ms however slow the path, and waited at least 1.4 s).
func TestSIPRetransmitsAtTheClocksRTO(t *testing.T) {
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() }) // after the parallel subtests
	spec := probe.Spec{ID: "sip", Kind: probe.KindSIP, Host: "127.0.0.1", Port: silent.LocalAddr().(*net.UDPAddr).Port, Transport: probe.TransportUDP}
	for _, tc := range []struct {
		name     string
		sample   time.Duration // one round trip the clock measured
		timeout  time.Duration
		attempts int
	}{
		// (a 67 ms sample gives RTO 200 ms: sends at 0, 200 and 600 ms,
		// silence at 1.4 s, so a stalled scheduler has 800 ms of margin)
		{"67 ms path (RTO 200 ms): 3 requests within 1.4 s", 67 * time.Millisecond, 3 * time.Second, probe.Transmissions},
		{"100 ms path (RTO 300 ms): 3 requests within 2.1 s", 100 * time.Millisecond, 4 * time.Second, probe.Transmissions},
		{"slow path (RTO 2 s): one request before a 1 s deadline", time.Second, time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &probe.Clock{}
			clock.Observe("192.0.2.1", tc.sample)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			res := probe.SIP(ctx, spec, &probe.Config{Clock: clock})
			// (one fewer when a stalled scheduler pushes the last send past
			// the bound; more is the old fixed schedule's)
			if n := res.Details.SIP.Attempts; res.Class != probe.ClassTimeout || n > tc.attempts || n < max(tc.attempts-1, 1) {
				t.Fatalf("class %q, %d attempts (%s); want timeout, %d attempts", res.Class, res.Details.SIP.Attempts, res.Error, tc.attempts)
			}
		})
	}
}

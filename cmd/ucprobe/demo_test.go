package main

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/report"
)

// The demo runs every check of xphone against what it starts on loopback
// and passes; a port of the media range that another program holds is
// not-served, not blocked; a second demo in the same process finds every
// port released by the first.
func TestDemo(t *testing.T) {
	const pass = "demo-test-password-0123456789"
	old := demoPassword
	demoPassword = func() string { return pass }
	t.Cleanup(func() { demoPassword = old })

	// Someone else holds a port of the range (32768-33000 is inside
	// Linux's ephemeral range, so this happens on busy machines).
	held, err := net.ListenPacket("udp4", "127.0.0.1:32999")
	if err == nil {
		defer held.Close()
	}

	var notServed []int
	var firstTURN string
	before := runtime.NumGoroutine()
	for run := range 2 {
		code, out, errOut := ucprobe(t, "demo", "--format", "json")
		if code != report.ExitOK {
			t.Fatalf("run %d: exit %d\nstderr: %s\n%s", run, code, errOut, out)
		}
		if strings.Contains(out+errOut, pass) {
			t.Fatalf("run %d: the TURN password is in the output", run)
		}
		if !strings.Contains(errOut, "ucprobe demo: started on 127.0.0.1") {
			t.Errorf("run %d: no header on stderr: %s", run, errOut)
		}
		if strings.Contains(errOut, "TCP 2230 in use") {
			t.Errorf("run %d: TCP 2230 held: %s", run, errOut)
		}
		turnLine := headerLine(errOut, "TURN/STUN")
		if run == 0 {
			firstTURN = turnLine
		} else if strings.Contains(firstTURN, "UDP and TCP 3478,") && turnLine != firstTURN {
			// Only the default ports are taken again by design; when
			// something else holds 3478 (a local coturn) each demo picks
			// free ports of its own.
			t.Errorf("the first demo's TURN ports were not released: %q, then %q", firstTURN, turnLine)
		}
		r := decode(t, out)
		if r.Schema != "ucprobe/report/v1" || r.Verdict != report.VerdictOK {
			t.Errorf("run %d: schema %q verdict %q, findings %+v", run, r.Schema, r.Verdict, r.Findings)
		}
		checks := map[string]probe.Result{}
		for _, c := range r.Checks {
			checks[c.ID] = c
		}
		for _, id := range []string{"signalling", "media-range", "ice", "stun", "turn-udp", "turn-tcp", "turn-tls"} {
			c, ok := checks[id]
			if !ok {
				t.Errorf("run %d: no check %s", run, id)
				continue
			}
			if c.Status != probe.StatusPass {
				t.Errorf("run %d: %s: %s %s %s", run, id, c.Status, c.Class, c.Error)
			}
		}
		if d := checks["media-range"].Details.UDPRange; d == nil {
			t.Errorf("run %d: media-range has no details", run)
		} else {
			if d.Ports != 3001 || d.Open != d.Ports-d.NotServed || !d.Receipts || d.Responder != "ucprobe" {
				t.Errorf("run %d: media-range: swept %d open %d not-served %d receipts %v responder %q",
					run, d.Ports, d.Open, d.NotServed, d.Receipts, d.Responder)
			}
			if held != nil && d.NotServed < 1 {
				t.Errorf("run %d: UDP 32999 is held elsewhere but not-served is %d", run, d.NotServed)
			}
			notServed = append(notServed, d.NotServed)
		}
		if d := checks["ice"].Details.ICE; d == nil || d.Media == nil {
			t.Errorf("run %d: ice has no media details: %+v", run, d)
		} else if d.Mode != "two-ended" || d.Media.MOS <= 3.5 {
			t.Errorf("run %d: ice mode %q MOS %.2f", run, d.Mode, d.Media.MOS)
		}
		for _, id := range []string{"turn-udp", "turn-tcp", "turn-tls"} {
			if d := checks[id].Details.TURN; d == nil || d.RelayReceived != probe.TURNRelayCount {
				t.Errorf("run %d: %s: no relayed round trip: %+v", run, id, d)
			}
		}
	}
	// The first demo's responder released its ports: the second one
	// serves them again. Ports 32768-33000 lie in Linux's ephemeral range,
	// so other tests' sockets can take a few meanwhile; a leak would leave
	// nearly all 3,001 not-served.
	if len(notServed) == 2 && notServed[1] > notServed[0]+50 {
		t.Errorf("not-served %d in the first demo, %d in the second: ports were not released", notServed[0], notServed[1])
	}
	// Nothing the demos started is left running (the one extra goroutine
	// is os/signal's watcher, started by the first run and kept for the
	// process). Goroutines end just after their sockets close: poll.
	probetest.WaitGoroutines(t, before+1, 10*time.Second)
}

func headerLine(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return l
		}
	}
	return ""
}

func TestDemoText(t *testing.T) {
	code, out, errOut := ucprobe(t, "demo", "--media", "1s")
	if code != report.ExitOK {
		t.Fatalf("exit %d\nstderr: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"ucprobe demo: started on 127.0.0.1", "Verdict: OK", "media-range", "MOS", "turn-tcp"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = ucprobe(t, "demo", "--help")
	if code != 0 || !strings.Contains(out, "only to 127.0.0.1") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	if code, _, errOut := ucprobe(t, "demo", "--format", "xml"); code != report.ExitUnknown || !strings.Contains(errOut, "--format") {
		t.Errorf("--format xml: exit %d, %s", code, errOut)
	}
}

// With the TURN port taken (a local coturn), the demo's TURN server takes
// a free port, says so, and the stun/turn checks follow it.
func TestDemoTURNPortInUse(t *testing.T) {
	if pc, err := net.ListenPacket("udp4", "127.0.0.1:3478"); err == nil {
		defer pc.Close()
	}
	code, out, errOut := ucprobe(t, "demo", "--format", "json", "--media", "0")
	if code != report.ExitOK {
		t.Fatalf("exit %d\nstderr: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(errOut, "3478 is in use on 127.0.0.1") {
		t.Errorf("the header does not say 3478 is taken: %s", errOut)
	}
	for _, c := range decode(t, out).Checks {
		if (c.Kind == probe.KindSTUN || c.Kind == probe.KindTURN) && (c.Status != probe.StatusPass || c.Port == 3478) {
			t.Errorf("%s: %s on port %d: %s", c.ID, c.Status, c.Port, c.Error)
		}
	}
}

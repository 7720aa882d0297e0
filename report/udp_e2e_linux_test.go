//go:build linux

package report

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/profiles"
)

// End to end for udp-blocked: coturn in a namespace the test creates, a
// firewall there that drops UDP to it, and the estos-procall profile run
// from inside the namespace (a child process under `ip netns exec`). TURN
// over TCP still works, so the report must say UDP is blocked and media
// will relay over TCP.

const udpHelperEnv = "UCPROBE_E2E_UDP_TURN"

func TestHelperUDPBlockedRun(t *testing.T) {
	v := os.Getenv(udpHelperEnv)
	if v == "" {
		t.Skip("helper for TestUDPBlockedInNamespace")
	}
	server, creds, _ := strings.Cut(v, " ")
	user, pass, _ := strings.Cut(creds, ":")
	p, err := profiles.Load("estos-procall")
	if err != nil {
		t.Fatal(err)
	}
	// No per-check caps: the run's clock bounds each silence (3 sends
	// paced by the round trip the run measured).
	vars := map[string]string{"ucconnect": server}
	specs, err := p.Plan(vars)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: user, Password: probe.Secret(pass)}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	results := (&probe.Runner{Config: cfg, Probers: probe.DefaultProbers()}).Run(ctx, specs)
	env := probe.GatherEnvironment(context.Background(), results)
	rep := Build(p, vars, "e2e", time.Now(), time.Second, results, env, probe.RunInfo{})
	b, _ := json.Marshal(rep)
	fmt.Printf("REPORT %s\n", b)
}

// runUDPNetns starts coturn (127.0.0.2:3478) in a fresh namespace, applies
// the iptables rule, runs the estos-procall profile from inside and returns
// the report (JSON) and the coturn password for the leak check.
func runUDPNetns(t *testing.T, rule ...string) (*Report, string, string) {
	t.Helper()
	probetest.NeedRoot(t)
	probetest.NeedBinary(t, "ip", "iproute2")
	probetest.NeedBinary(t, "iptables", "iptables")
	ns := makeNetns(t)
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true, Port: 3478, Netns: ns})
	if out, err := exec.Command("ip", append([]string{"netns", "exec", ns, "iptables"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables: %v %s", err, out)
	}
	out := probetest.Reexec(t, ns, "TestHelperUDPBlockedRun", udpHelperEnv+"="+ct.IP+" "+ct.User+":"+ct.Pass)
	_, js, ok := strings.Cut(out, "REPORT ")
	if !ok {
		t.Fatalf("no report:\n%s", out)
	}
	js, _, _ = strings.Cut(js, "\n")
	var rep Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, js, ct.Pass
}

func findingOf(rep *Report, c Cause) *Finding {
	for i := range rep.Findings {
		if rep.Findings[i].Cause == c {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestUDPBlockedInNamespace(t *testing.T) {
	// Drop UDP to the TURN server on input: the client hears silence.
	// STUN and TURN on one port of one host are one UDP service: its
	// silence is that service's (udp-service-blocked), not all UDP.
	rep, js, pass := runUDPNetns(t, "-A", "INPUT", "-p", "udp", "-d", "127.0.0.2", "--dport", "3478", "-j", "DROP")
	udp := findingOf(rep, cause.UDPServiceBlocked)
	if udp == nil || findingOf(rep, cause.UDPBlocked) != nil {
		t.Fatalf("want udp-service-blocked and no udp-blocked: %+v", rep.Findings)
	}
	if udp.Severity != SeverityCritical || udp.Facts["media_over"] != "tcp-relay" {
		t.Errorf("finding %+v", udp)
	}
	for id, want := range map[string]probe.ErrorClass{"stun": probe.ClassTimeout, "turn-udp": probe.ClassTimeout, "turn-tcp": ""} {
		c := rep.Check(id)
		if c == nil || c.Class != want {
			t.Fatalf("check %s: %+v", id, c)
		}
	}
	if d := rep.Check("turn-tcp").Details.TURN; d.RelayReceived != probe.TURNRelayCount {
		t.Errorf("turn-tcp relay %d/%d", d.RelayReceived, d.RelaySent)
	}
	if strings.Contains(js, pass) {
		t.Error("TURN password in the JSON report")
	}
}

// The TURN server's firewall drops its relay port range: allocations
// work on every transport, nothing passes through the relay.
func TestTURNRelayBlockedInNamespace(t *testing.T) {
	rep, _, _ := runUDPNetns(t, "-A", "INPUT", "-p", "udp", "-d", "127.0.0.2", "--dport", "40000:60000", "-j", "DROP")
	f := findingOf(rep, cause.TURNRelayFailed)
	if f == nil || f.Severity != SeverityCritical {
		t.Fatalf("no critical turn-relay-failed: %+v", rep.Findings)
	}
	for _, id := range []string{"turn-udp", "turn-tcp"} {
		c := rep.Check(id)
		if c == nil || c.Status != probe.StatusFail || c.Details.TURN.RelayedAddr == "" || c.Details.TURN.RelayReceived != 0 {
			t.Fatalf("check %s: %+v", id, c)
		}
	}
	if findingOf(rep, cause.UDPBlocked) != nil || findingOf(rep, cause.TURNUnreachable) != nil {
		t.Errorf("UDP reaches the server; findings %+v", rep.Findings)
	}
}

// The lab's udp-drop case: every UDP datagram from the client's address
// is dropped (so also a second local socket's datagrams to the relayed
// address), TURN over TCP works. The turn check echoes relay to relay
// through a second allocation, so turn-tcp passes and the report says UDP
// is blocked and media will relay over TCP (not turn-relay-failed).
func TestClientUDPDroppedInNamespace(t *testing.T) {
	rep, js, pass := runUDPNetns(t, "-A", "INPUT", "-p", "udp", "-s", "127.0.0.1", "-j", "DROP")
	// (The headline is port-closed: nothing serves the profile's TCP 443
	// in this namespace.) The only UDP tested is the TURN server's 3478:
	// one service, so the narrow cause, still saying media relays over TCP.
	udp := findingOf(rep, cause.UDPServiceBlocked)
	if udp == nil || udp.Severity != SeverityCritical || !strings.Contains(udp.Detail, "media will relay over TCP") || udp.Facts["media_over"] != "tcp-relay" {
		t.Fatalf("udp-service-blocked %+v, want it critical with media over a TCP relay; findings %+v", udp, rep.Findings)
	}
	if f := findingOf(rep, cause.TURNRelayFailed); f != nil {
		t.Errorf("turn-relay-failed although TURN over TCP relays: %+v", f)
	}
	if c := rep.Check("turn-udp"); c == nil || c.Class != probe.ClassTimeout {
		t.Fatalf("turn-udp: %+v", c)
	}
	c := rep.Check("turn-tcp")
	if c == nil || c.Status != probe.StatusPass {
		t.Fatalf("turn-tcp: %+v", c)
	}
	if d := c.Details.TURN; d.RelayPeer != probe.TURNPeerRelay || d.RelayReceived != probe.TURNRelayCount {
		t.Errorf("turn-tcp relay peer %q, %d/%d echoed", d.RelayPeer, d.RelayReceived, d.RelaySent)
	}
	if strings.Contains(js, pass) {
		t.Error("TURN password in the JSON report")
	}
}

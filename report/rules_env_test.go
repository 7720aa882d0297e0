package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// Synthetic evidence builders: a check is (id, kind, transport, host,
// address, status, class); the environment is built from interfaces and
// routes the way GatherEnvironment reports them.

func chk(id string, kind probe.Kind, tr probe.Transport, host, addr string, st probe.Status, cl probe.ErrorClass) probe.Result {
	return probe.Result{ID: id, Kind: kind, Transport: tr, Host: host, Address: addr, Target: host, Status: st, Class: cl}
}

func pass(id string, kind probe.Kind, tr probe.Transport, host, addr string) probe.Result {
	return chk(id, kind, tr, host, addr, probe.StatusPass, "")
}

func fail(id string, kind probe.Kind, tr probe.Transport, host, addr string, cl probe.ErrorClass) probe.Result {
	return chk(id, kind, tr, host, addr, probe.StatusFail, cl)
}

func sweep(id, host, addr string, open, closed, ports int) probe.Result {
	r := chk(id, probe.KindUDPRange, probe.TransportUDP, host, addr, probe.StatusPass, "")
	if open < ports {
		r.Status, r.Class = probe.StatusFail, probe.ClassTimeout
	}
	r.Details.UDPRange = &probe.UDPRangeDetails{Ports: ports, Open: open, Closed: closed, Filtered: ports - open - closed, Responder: "ucprobe"}
	return r
}

func iceCheck(id, host string, st probe.Status, relayProto string) probe.Result {
	r := chk(id, probe.KindICE, "", host, "", st, "")
	d := &probe.ICEDetails{Mode: "two-ended", State: "failed"}
	if st == probe.StatusFail {
		r.Class = probe.ClassTimeout
	} else {
		d.State = "connected"
		local := probe.ICECandidate{Type: "host", Protocol: "udp"}
		if relayProto != "" {
			local = probe.ICECandidate{Type: "relay", Protocol: "udp", RelayProtocol: relayProto}
		}
		d.Selected = &probe.ICEPair{Local: local, Selected: true}
	}
	r.Details.ICE = d
	return r
}

var (
	ifLAN   = probe.Interface{Name: "eth0", Kind: probe.IfEthernet, Up: true, Running: true, MTU: 1500, Addrs: []string{"192.168.1.20/24"}}
	ifVPN   = probe.Interface{Name: "tun0", Kind: probe.IfTunnel, Up: true, Running: true, MTU: 1280, VPN: true, VPNHow: "linux link kind tun", Addrs: []string{"10.99.0.2/24"}}
	ifVPNDn = probe.Interface{Name: "tun0", Kind: probe.IfTunnel, Up: true, Running: false, MTU: 1280, VPN: true, VPNHow: "linux link kind tun", Addrs: []string{"10.99.0.2/24"}}
)

func viaLAN(dst string) probe.Route {
	return probe.Route{Destination: dst, Interface: "eth0", Gateway: "192.168.1.1", How: "netlink", MTU: 1500}
}

func viaVPN(dst string) probe.Route {
	return probe.Route{Destination: dst, Interface: "tun0", How: "netlink", ViaVPN: true, MTU: 1280}
}

func noRoute(dst string) probe.Route {
	return probe.Route{Destination: dst, NoRoute: true, How: "netlink"}
}

func env(ifs []probe.Interface, routes ...probe.Route) probe.Environment {
	e := probe.Environment{Interfaces: ifs, Routes: routes}
	for _, it := range ifs {
		if it.VPN && it.Up && it.Running {
			e.VPN.Up = true
			e.VPN.Interfaces = append(e.VPN.Interfaces, it.Name)
		}
	}
	return e
}

// The lab's VPN scenario: pbx.corp (172.16.5.9) through tun0; TCP 2230
// works, STUN/TURN-UDP/media range get nothing back.
func vpnNoUDPChecks() []probe.Result {
	return []probe.Result{
		pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9"),
		fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		fail("turn-udp", probe.KindTURN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		pass("turn-tcp", probe.KindTURN, probe.TransportTCP, "pbx.corp", "172.16.5.9"),
		sweep("media-range", "pbx.corp", "172.16.5.9", 0, 0, 64),
		iceCheck("ice", "pbx.corp", probe.StatusPass, "tcp"),
	}
}

func TestRuleVPNNoUDP(t *testing.T) {
	type tc struct {
		name     string
		checks   []probe.Result
		env      probe.Environment
		want     int
		evidence []string
	}
	cases := []tc{
		{"udp fails only through the tunnel", vpnNoUDPChecks(), env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 1,
			[]string{"stun", "turn-udp", "media-range", "ice", "signalling", "turn-tcp"}},
		{"same evidence, route not via a VPN (plain udp-blocked)", vpnNoUDPChecks(), env([]probe.Interface{ifLAN}, viaLAN("172.16.5.9")), 0, nil},
		{"no route known: no claim", vpnNoUDPChecks(), env([]probe.Interface{ifLAN, ifVPN}), 0, nil},
		{"udp through the tunnel works for one check (a range problem, not the tunnel)", append(vpnNoUDPChecks(),
			pass("stun-2", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9")), env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, nil},
		{"port unreachable proves UDP arrives", []probe.Result{
			pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9"),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassRefused),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, nil},
		{"tcp through the tunnel fails too (not a UDP-only tunnel)", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, nil},
		{"only UDP went through the tunnel: named, TCP untested", []probe.Result{
			pass("web", probe.KindTCP, probe.TransportTCP, "www.example", "198.51.100.80"),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaLAN("198.51.100.80")), 1, []string{"stun"}},
		{"tcp to another address through the same tunnel counts", []probe.Result{
			pass("ldap", probe.KindTCP, probe.TransportTCP, "dc.corp", "172.16.5.2"),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaVPN("172.16.5.2")), 1, []string{"stun", "ldap"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := ruleVPNNoUDP(&Input{Checks: c.checks, Env: c.env})
			if len(fs) != c.want {
				t.Fatalf("%d findings, want %d: %+v", len(fs), c.want, fs)
			}
			if c.want == 0 {
				return
			}
			f := fs[0]
			for _, id := range c.evidence {
				if !slices.Contains(f.Evidence, id) {
					t.Errorf("evidence %v lacks %s", f.Evidence, id)
				}
			}
			if f.Severity != SeverityCritical || f.Facts["interface"] != "tun0" || !strings.Contains(f.Detail, "tun0") {
				t.Errorf("finding = %+v", f)
			}
		})
	}
}

// The lab's vpn-no-udp: TURN over TCP allocates through the tunnel, but
// its relay echo (UDP from a second local socket to the relayed address)
// dies in the same tunnel. That is the tunnel, not the TURN host's
// firewall: turn-relay-failed folds into vpn-no-udp.
func TestRuleVPNNoUDPFoldsRelayEchoOverTCP(t *testing.T) {
	relayFail := func(id string, tr probe.Transport) probe.Result {
		r := fail(id, probe.KindTURN, tr, "turn.corp", "172.16.5.30", probe.ClassProtocol)
		r.Details.TURN = &probe.TURNDetails{RelayedAddr: "172.16.5.30:49200", RelaySent: 5}
		return r
	}
	cases := []struct {
		name     string
		checks   []probe.Result
		env      probe.Environment
		headline Cause
		want     []Cause
	}{
		{"relay echo over TCP dies in the tunnel", []probe.Result{
			pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9"),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "turn.corp", "172.16.5.30", probe.ClassTimeout),
			fail("turn-udp", probe.KindTURN, probe.TransportUDP, "turn.corp", "172.16.5.30", probe.ClassTimeout),
			relayFail("turn-tcp", probe.TransportTCP),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaVPN("172.16.5.30")),
			cause.VPNNoUDP, []Cause{cause.VPNNoUDP}},
		{"no tunnel: the relay failure stands on its own", []probe.Result{
			pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9"),
			pass("stun", probe.KindSTUN, probe.TransportUDP, "turn.corp", "172.16.5.30"),
			relayFail("turn-udp", probe.TransportUDP),
		}, env([]probe.Interface{ifLAN}, viaLAN("172.16.5.9"), viaLAN("172.16.5.30")),
			cause.TURNRelayFailed, []Cause{cause.TURNRelayFailed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: c.checks, Env: c.env}, nil)
			got := causes(fs)
			if !slices.Equal(got, c.want) {
				t.Fatalf("causes %v, want %v", got, c.want)
			}
			if fs[0].Cause != c.headline {
				t.Errorf("headline %s, want %s", fs[0].Cause, c.headline)
			}
		})
	}
}

func TestRuleVPNRequired(t *testing.T) {
	lanOnly := []probe.Interface{ifLAN}
	cases := []struct {
		name   string
		checks []probe.Result
		env    probe.Environment
		want   int
		sev    Severity
	}{
		{"private address, no route, no VPN", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9", probe.ClassUnreachable),
		}, env(lanOnly, noRoute("172.16.5.9")), 1, SeverityCritical},
		{"private address via the default gateway times out, no VPN", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "10.20.0.5", probe.ClassTimeout),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "10.20.0.5", probe.ClassTimeout),
		}, env(lanOnly, viaLAN("10.20.0.5")), 1, SeverityCritical},
		{"CGNAT address (e.g. a Tailscale/Zscaler range)", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "100.100.1.1", probe.ClassTimeout),
		}, env(lanOnly, viaLAN("100.100.1.1")), 1, SeverityCritical},
		{"the tunnel exists but its client is not running", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		}, env([]probe.Interface{ifLAN, ifVPNDn}, viaVPN("172.16.5.9")), 1, SeverityCritical},
		{"public address routed into a dead tunnel", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.example", "192.0.2.10", probe.ClassTimeout),
		}, env([]probe.Interface{ifLAN, ifVPNDn}, viaVPN("192.0.2.10")), 1, SeverityCritical},
		{"VPN is up: not vpn-required", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, ""},
		{"public address: not vpn-required", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
		}, env(lanOnly, viaLAN("198.51.100.7")), 0, ""},
		{"server on this client's own LAN is down: not vpn-required", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.lan", "192.168.1.50", probe.ClassTimeout),
		}, env(lanOnly, probe.Route{Destination: "192.168.1.50", Interface: "eth0", How: "udp-connect"}), 0, ""},
		{"private address answers with a reset: reachable, not vpn-required", []probe.Result{
			fail("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "10.20.0.5", probe.ClassRefused),
		}, env(lanOnly, viaLAN("10.20.0.5")), 0, ""},
		{"mixed name, public address works: the multi-homed rule's case", []probe.Result{
			fail("signalling@10.20.0.5", probe.KindTCP, probe.TransportTCP, "pbx.corp", "10.20.0.5", probe.ClassTimeout),
			pass("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.corp", "198.51.100.7"),
		}, env(lanOnly, viaLAN("10.20.0.5"), viaLAN("198.51.100.7")), 0, ""},
		{"mixed name, nothing answers: cannot determine, a warning", []probe.Result{
			fail("signalling@10.20.0.5", probe.KindTCP, probe.TransportTCP, "pbx.corp", "10.20.0.5", probe.ClassTimeout),
			fail("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.corp", "198.51.100.7", probe.ClassTimeout),
		}, env(lanOnly, viaLAN("10.20.0.5"), viaLAN("198.51.100.7")), 1, SeverityWarning},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := ruleVPNRequired(&Input{Checks: c.checks, Env: c.env})
			if len(fs) != c.want {
				t.Fatalf("%d findings, want %d: %+v", len(fs), c.want, fs)
			}
			if c.want > 0 && fs[0].Severity != c.sev {
				t.Errorf("severity %s, want %s", fs[0].Severity, c.sev)
			}
			if c.sev == SeverityWarning && !strings.Contains(fs[0].Detail, "cannot be determined") {
				t.Errorf("detail does not say what could not be determined: %s", fs[0].Detail)
			}
		})
	}
}

func TestRuleMultiHomed(t *testing.T) {
	cases := []struct {
		name        string
		checks      []probe.Result
		want        int
		unreachable string
	}{
		{"UDP fails to one of two addresses, TCP works to both", []probe.Result{
			pass("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7"),
			pass("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8"),
			sweep("media-range@198.51.100.7", "pbx.example", "198.51.100.7", 64, 0, 64),
			sweep("media-range@198.51.100.8", "pbx.example", "198.51.100.8", 0, 0, 64),
		}, 1, "198.51.100.8"},
		{"one address answers nothing at all", []probe.Result{
			pass("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7"),
			fail("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8", probe.ClassTimeout),
		}, 1, "198.51.100.8"},
		{"part of the range blocked on both addresses: a range problem, not multi-homing", []probe.Result{
			sweep("media-range@198.51.100.7", "pbx.example", "198.51.100.7", 32, 0, 64),
			sweep("media-range@198.51.100.8", "pbx.example", "198.51.100.8", 32, 0, 64),
		}, 0, ""},
		{"both addresses fail alike", []probe.Result{
			fail("stun@198.51.100.7", probe.KindSTUN, probe.TransportUDP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
			fail("stun@198.51.100.8", probe.KindSTUN, probe.TransportUDP, "pbx.example", "198.51.100.8", probe.ClassTimeout),
		}, 0, ""},
		{"one address, different checks differ: not multi-homed", []probe.Result{
			pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7"),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
		}, 0, ""},
		// Per address, over all evidence: the signalling port's state does
		// not decide; anything that answered makes an address alive.
		{"signalling filtered on both; the first answers the sweep, the second nothing", []probe.Result{
			fail("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
			fail("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8", probe.ClassTimeout),
			sweep("media-range@198.51.100.7", "pbx.example", "198.51.100.7", 60, 0, 64),
			sweep("media-range@198.51.100.8", "pbx.example", "198.51.100.8", 0, 0, 64),
		}, 1, "198.51.100.8"},
		{"signalling filtered on both; the first is alive through another name's check (ICMP port unreachable)", []probe.Result{
			fail("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
			fail("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8", probe.ClassTimeout),
			fail("stun", probe.KindSTUN, probe.TransportUDP, "stun.pbx.example", "198.51.100.7", probe.ClassRefused),
		}, 1, "198.51.100.8"},
		{"signalling filtered on both, both alive by other answers: no multi-homing", []probe.Result{
			fail("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
			fail("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8", probe.ClassTimeout),
			fail("web@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7", probe.ClassRefused),
			pass("stun", probe.KindSTUN, probe.TransportUDP, "stun.pbx.example", "198.51.100.8"),
		}, 0, ""},
		{"both silent everywhere: nothing alive to compare with", []probe.Result{
			fail("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7", probe.ClassTimeout),
			fail("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8", probe.ClassTimeout),
		}, 0, ""},
		{"a closed port on one address is an answer, not unreachability", []probe.Result{
			pass("signalling@198.51.100.7", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.7"),
			fail("signalling@198.51.100.8", probe.KindTCP, probe.TransportTCP, "pbx.example", "198.51.100.8", probe.ClassRefused),
		}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := filterCause(ruleMultiHomed(&Input{Checks: c.checks}), "")
			if len(fs) != c.want {
				t.Fatalf("%d findings, want %d: %+v", len(fs), c.want, fs)
			}
			if c.want > 0 && fs[0].Facts["unreachable"] != c.unreachable {
				t.Errorf("unreachable = %q, want %q", fs[0].Facts["unreachable"], c.unreachable)
			}
		})
	}
}

func filterCause(fs []Finding, c Cause) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Cause == c {
			out = append(out, f)
		}
	}
	return out
}

func TestRuleSmallMTU(t *testing.T) {
	small := probe.Route{Destination: "172.16.5.9", Interface: "tun0", MTU: 1200, How: "netlink", ViaVPN: true}
	cases := []struct {
		name   string
		checks []probe.Result
		route  probe.Route
		want   int
		sev    Severity
	}{
		{"a fact only", []probe.Result{pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9")}, small, 1, SeverityInfo},
		{"TLS stalls where TCP connects", []probe.Result{
			pass("signalling", probe.KindTCP, probe.TransportTCP, "pbx.corp", "172.16.5.9"),
			fail("web", probe.KindTLS, probe.TransportTLS, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
		}, small, 1, SeverityWarning},
		{"1280 is fine", nil, probe.Route{Destination: "172.16.5.9", Interface: "tun0", MTU: 1280}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := ruleSmallMTU(&Input{Checks: c.checks, Env: probe.Environment{Routes: []probe.Route{c.route}}})
			if len(fs) != c.want {
				t.Fatalf("%d findings, want %d", len(fs), c.want)
			}
			if c.want > 0 && fs[0].Severity != c.sev {
				t.Errorf("severity %s, want %s", fs[0].Severity, c.sev)
			}
		})
	}
}

func TestRuleVPNNoUDPSaysWhatIsUntested(t *testing.T) {
	fs := ruleVPNNoUDP(&Input{Checks: []probe.Result{
		pass("web", probe.KindTCP, probe.TransportTCP, "www.example", "198.51.100.80"),
		fail("stun", probe.KindSTUN, probe.TransportUDP, "pbx.corp", "172.16.5.9", probe.ClassTimeout),
	}, Env: env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaLAN("198.51.100.80"))})
	if len(fs) != 1 || fs[0].Facts["tcp_through_tunnel"] != "untested" || slices.Contains(fs[0].Evidence, "web") ||
		!strings.Contains(fs[0].Detail, "could not be determined") || strings.Contains(fs[0].Title, "carries TCP") {
		t.Errorf("finding = %+v", fs)
	}
}

func TestICESignallingFailureIsNotUDPEvidence(t *testing.T) {
	c := probe.Result{ID: "ice", Kind: probe.KindICE, Status: probe.StatusFail, Class: probe.ClassAuth}
	c.Details.ICE = &probe.ICEDetails{Mode: "two-ended", Signalling: &probe.ICESignalling{Stage: "offer", StatusCode: 401}}
	if iceUDPFailure(c) {
		t.Error("a refused signalling request (HTTP over TCP) counted as a UDP failure")
	}
	c.Details.ICE.Signalling.Stage = "done"
	c.Class = probe.ClassTimeout
	if !iceUDPFailure(c) {
		t.Error("ICE that signalled and then timed out is a UDP failure")
	}
}

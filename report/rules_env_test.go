package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// The environment of synthetic evidence, built from interfaces and routes
// the way GatherEnvironment reports them (checks: evidence_builders_test.go).

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
		check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r(),
		check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
		check("turn-udp", probe.KindTURN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
		check("turn-tcp", probe.KindTURN).tcp().at("pbx.corp", "172.16.5.9").r(),
		check("media-range", probe.KindUDPRange).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).swept(64, 0, 0).responder("ucprobe").r(),
		check("ice", probe.KindICE).at("pbx.corp", "").connectedVia("tcp").r(),
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
			check("stun-2", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").r()), env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, nil},
		{"port unreachable proves UDP arrives", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassRefused).r(),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, nil},
		{"tcp through the tunnel fails too (not a UDP-only tunnel)", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, nil},
		{"only UDP went through the tunnel: named, TCP untested", []probe.Result{
			check("web", probe.KindTCP).tcp().at("www.example", "198.51.100.80").r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaLAN("198.51.100.80")), 1, []string{"stun"}},
		{"tcp to another address through the same tunnel counts", []probe.Result{
			check("ldap", probe.KindTCP).tcp().at("dc.corp", "172.16.5.2").r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
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
	cases := []struct {
		name     string
		checks   []probe.Result
		env      probe.Environment
		headline Cause
		want     []Cause
	}{
		{"relay echo over TCP dies in the tunnel", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r(),
			check("stun", probe.KindSTUN).udp().at("turn.corp", "172.16.5.30").failed(probe.ClassTimeout).r(),
			check("turn-udp", probe.KindTURN).udp().at("turn.corp", "172.16.5.30").failed(probe.ClassTimeout).r(),
			check("turn-tcp", probe.KindTURN).tcp().at("turn.corp", "172.16.5.30").failed(probe.ClassProtocol).relay("172.16.5.30:49200", 5).r(),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaVPN("172.16.5.30")),
			cause.VPNNoUDP, []Cause{cause.VPNNoUDP}},
		{"no tunnel: the relay failure stands on its own", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r(),
			check("stun", probe.KindSTUN).udp().at("turn.corp", "172.16.5.30").r(),
			check("turn-udp", probe.KindTURN).udp().at("turn.corp", "172.16.5.30").failed(probe.ClassProtocol).relay("172.16.5.30:49200", 5).r(),
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
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").failed(probe.ClassUnreachable).r(),
		}, env(lanOnly, noRoute("172.16.5.9")), 1, SeverityCritical},
		{"private address via the default gateway times out, no VPN", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "10.20.0.5").failed(probe.ClassTimeout).r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "10.20.0.5").failed(probe.ClassTimeout).r(),
		}, env(lanOnly, viaLAN("10.20.0.5")), 1, SeverityCritical},
		{"CGNAT address (e.g. a Tailscale/Zscaler range)", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "100.100.1.1").failed(probe.ClassTimeout).r(),
		}, env(lanOnly, viaLAN("100.100.1.1")), 1, SeverityCritical},
		{"the tunnel exists but its client is not running", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
		}, env([]probe.Interface{ifLAN, ifVPNDn}, viaVPN("172.16.5.9")), 1, SeverityCritical},
		{"public address routed into a dead tunnel", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "192.0.2.10").failed(probe.ClassTimeout).r(),
		}, env([]probe.Interface{ifLAN, ifVPNDn}, viaVPN("192.0.2.10")), 1, SeverityCritical},
		{"VPN is up: not vpn-required", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")), 0, ""},
		{"public address: not vpn-required", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
		}, env(lanOnly, viaLAN("198.51.100.7")), 0, ""},
		{"server on this client's own LAN is down: not vpn-required", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.lan", "192.168.1.50").failed(probe.ClassTimeout).r(),
		}, env(lanOnly, probe.Route{Destination: "192.168.1.50", Interface: "eth0", How: "udp-connect"}), 0, ""},
		{"private address answers with a reset: reachable, not vpn-required", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "10.20.0.5").failed(probe.ClassRefused).r(),
		}, env(lanOnly, viaLAN("10.20.0.5")), 0, ""},
		{"mixed name, public address works: the multi-homed rule's case", []probe.Result{
			check("signalling@10.20.0.5", probe.KindTCP).tcp().at("pbx.corp", "10.20.0.5").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.corp", "198.51.100.7").r(),
		}, env(lanOnly, viaLAN("10.20.0.5"), viaLAN("198.51.100.7")), 0, ""},
		{"mixed name, nothing answers: cannot determine, a warning", []probe.Result{
			check("signalling@10.20.0.5", probe.KindTCP).tcp().at("pbx.corp", "10.20.0.5").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.corp", "198.51.100.7").failed(probe.ClassTimeout).r(),
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
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").r(),
			check("media-range@198.51.100.7", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.7").swept(64, 64, 0).responder("ucprobe").r(),
			check("media-range@198.51.100.8", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).swept(64, 0, 0).responder("ucprobe").r(),
		}, 1, "198.51.100.8"},
		{"one address answers nothing at all", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).r(),
		}, 1, "198.51.100.8"},
		{"part of the range blocked on both addresses: a range problem, not multi-homing", []probe.Result{
			check("media-range@198.51.100.7", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).swept(64, 32, 0).responder("ucprobe").r(),
			check("media-range@198.51.100.8", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).swept(64, 32, 0).responder("ucprobe").r(),
		}, 0, ""},
		{"both addresses fail alike", []probe.Result{
			check("stun@198.51.100.7", probe.KindSTUN).udp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
			check("stun@198.51.100.8", probe.KindSTUN).udp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).r(),
		}, 0, ""},
		{"one address, different checks differ: not multi-homed", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("stun", probe.KindSTUN).udp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
		}, 0, ""},
		// Per address, over all evidence: the signalling port's state does
		// not decide; anything that answered makes an address alive.
		{"signalling filtered on both; the first answers the sweep, the second nothing", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).r(),
			check("media-range@198.51.100.7", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).swept(64, 60, 0).responder("ucprobe").r(),
			check("media-range@198.51.100.8", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).swept(64, 0, 0).responder("ucprobe").r(),
		}, 1, "198.51.100.8"},
		{"signalling filtered on both; the first is alive through another name's check (ICMP port unreachable)", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).r(),
			check("stun", probe.KindSTUN).udp().at("stun.pbx.example", "198.51.100.7").failed(probe.ClassRefused).r(),
		}, 1, "198.51.100.8"},
		{"signalling filtered on both, both alive by other answers: no multi-homing", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).r(),
			check("web@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassRefused).r(),
			check("stun", probe.KindSTUN).udp().at("stun.pbx.example", "198.51.100.8").r(),
		}, 0, ""},
		{"both silent everywhere: nothing alive to compare with", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).r(),
		}, 0, ""},
		{"a closed port on one address is an answer, not unreachability", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").failed(probe.ClassRefused).r(),
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
		{"a fact only", []probe.Result{check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r()}, small, 1, SeverityInfo},
		{"TLS stalls where TCP connects", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r(),
			check("web", probe.KindTLS).over(probe.TransportTLS).at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
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
		check("web", probe.KindTCP).tcp().at("www.example", "198.51.100.80").r(),
		check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
	}, Env: env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaLAN("198.51.100.80"))})
	if len(fs) != 1 || fs[0].Facts["tcp_through_tunnel"] != "untested" || slices.Contains(fs[0].Evidence, "web") ||
		!strings.Contains(fs[0].Detail, "could not be determined") || strings.Contains(fs[0].Title, "carries TCP") {
		t.Errorf("finding = %+v", fs)
	}
}

func TestICESignallingFailureIsNotUDPEvidence(t *testing.T) {
	c := check("ice", probe.KindICE).failed(probe.ClassAuth).ice("two-ended", probe.ICEDetails{Signalling: &probe.ICESignalling{Stage: "offer", StatusCode: 401}}).r()
	if iceUDPFailure(c) {
		t.Error("a refused signalling request (HTTP over TCP) counted as a UDP failure")
	}
	c.Details.ICE.Signalling.Stage = "done"
	c.Class = probe.ClassTimeout
	if !iceUDPFailure(c) {
		t.Error("ICE that signalled and then timed out is a UDP failure")
	}
}

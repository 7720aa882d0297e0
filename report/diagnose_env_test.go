package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

func hasRule(c Cause) bool {
	return slices.ContainsFunc(Rules, func(r Rule) bool { return r.Cause == c })
}

// TestDiagnoseConfusables runs the whole diagnosis on evidence that the
// confusable causes share and checks that the right one heads the report
// and the look-alikes do not appear beside it.
func TestDiagnoseConfusables(t *testing.T) {
	lan := []probe.Interface{ifLAN}
	cases := []struct {
		name     string
		checks   []probe.Result
		env      probe.Environment
		headline Cause
		not      []Cause
	}{
		{"UDP fails only through the VPN tunnel", vpnNoUDPChecks(), env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9")),
			cause.VPNNoUDP, []Cause{cause.UDPBlocked, cause.UDPPortRangeBlocked, cause.TURNUnreachable, cause.ICEFailed, cause.RelayOnly, cause.CheckFailed, cause.MultiHomedServer}},
		{"UDP fails everywhere, no VPN: a firewall, not the tunnel", vpnNoUDPChecks(), env(lan, viaLAN("172.16.5.9")),
			cause.UDPBlocked, []Cause{cause.VPNNoUDP, cause.VPNRequired, cause.MultiHomedServer}},
		{"UDP fails to one of two server addresses", []probe.Result{
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("signalling@198.51.100.8", probe.KindTCP).tcp().at("pbx.example", "198.51.100.8").r(),
			check("media-range@198.51.100.7", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.7").swept(64, 64, 0).responder("ucprobe").r(),
			check("media-range@198.51.100.8", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.8").failed(probe.ClassTimeout).swept(64, 0, 0).responder("ucprobe").r(),
		}, env(lan, viaLAN("198.51.100.7"), viaLAN("198.51.100.8")),
			cause.MultiHomedServer, []Cause{cause.UDPPortRangeBlocked, cause.UDPBlocked, cause.VPNNoUDP, cause.CheckFailed}},
		{"part of the range blocked to the only address", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("media-range", probe.KindUDPRange).udp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).swept(64, 40, 0).responder("ucprobe").r(),
		}, env(lan, viaLAN("198.51.100.7")),
			cause.UDPPortRangeBlocked, []Cause{cause.MultiHomedServer, cause.VPNNoUDP, cause.UDPBlocked}},
		{"private server, no VPN, no route", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").failed(probe.ClassUnreachable).r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassUnreachable).r(),
		}, env(lan, noRoute("172.16.5.9")),
			cause.VPNRequired, []Cause{cause.NoRoute, cause.HostUnreachable, cause.TCPBlocked, cause.CheckFailed}},
		{"VPN down: the responder's ICE signalling to the same host times out too", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").failed(probe.ClassUnreachable).r(),
			// The runner gives a one-address name's address.
			check("ice", probe.KindICE).at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).
				ice("two-ended", probe.ICEDetails{Signalling: &probe.ICESignalling{URL: "http://pbx.corp:8480/v1/ice", Stage: "offer"}}).r(),
		}, env(lan, noRoute("172.16.5.9")),
			cause.VPNRequired, []Cause{cause.ICESignalling, cause.NoRoute, cause.CheckFailed}},
		{"private server, no VPN, silence via the default gateway", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "10.20.0.5").failed(probe.ClassTimeout).r(),
			check("stun", probe.KindSTUN).udp().at("pbx.corp", "10.20.0.5").failed(probe.ClassTimeout).r(),
		}, env(lan, viaLAN("10.20.0.5")),
			cause.VPNRequired, []Cause{cause.HostUnreachable, cause.TCPBlocked, cause.UDPBlocked, cause.CheckFailed}},
		{"public server, no route: not a VPN matter", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassUnreachable).r(),
		}, env(lan, noRoute("198.51.100.7")),
			cause.NoRoute, []Cause{cause.VPNRequired}},
		{"public server silent on everything", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
			check("stun", probe.KindSTUN).udp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
		}, env(lan, viaLAN("198.51.100.7")),
			cause.HostUnreachable, []Cause{cause.VPNRequired, cause.TCPBlocked}},
		{"one TCP port filtered, another works", []probe.Result{
			check("web", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").r(),
			check("signalling", probe.KindTCP).tcp().at("pbx.example", "198.51.100.7").failed(probe.ClassTimeout).r(),
		}, env(lan, viaLAN("198.51.100.7")),
			cause.TCPBlocked, []Cause{cause.VPNRequired, cause.HostUnreachable, cause.PortClosed}},
		{"reset on a private address: the host is there, not a VPN matter", []probe.Result{
			check("signalling", probe.KindTCP).tcp().at("pbx.corp", "10.20.0.5").failed(probe.ClassRefused).r(),
		}, env(lan, viaLAN("10.20.0.5")),
			cause.PortClosed, []Cause{cause.VPNRequired, cause.TCPBlocked}},
		{"the tunnel drops UDP to one of two addresses", []probe.Result{
			check("signalling@172.16.5.9", probe.KindTCP).tcp().at("pbx.corp", "172.16.5.9").r(),
			check("stun@172.16.5.9", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r(),
			check("signalling@198.51.100.7", probe.KindTCP).tcp().at("pbx.corp", "198.51.100.7").r(),
			check("stun@198.51.100.7", probe.KindSTUN).udp().at("pbx.corp", "198.51.100.7").r(),
		}, env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"), viaLAN("198.51.100.7")),
			cause.VPNNoUDP, []Cause{cause.MultiHomedServer, cause.UDPBlocked}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: c.checks, Env: c.env}, nil)
			got := causes(fs)
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Errorf("findings %v include %s", got, n)
				}
			}
			if !hasRule(c.headline) {
				t.Fatalf("no rule is registered for the headline %s", c.headline)
			}
			if len(fs) == 0 || fs[0].Cause != c.headline {
				t.Fatalf("headline of %v, want %s", got, c.headline)
			}
			if fs[0].Remedy == "" || len(fs[0].Evidence) == 0 {
				t.Errorf("headline lacks remedy or evidence: %+v", fs[0])
			}
		})
	}
}

// A root cause absorbs the symptom findings whose evidence it carries and
// records them; a critical symptom is never hidden under a warning.
func TestFold(t *testing.T) {
	root := Finding{Cause: cause.VPNNoUDP, Severity: SeverityCritical, Evidence: []string{"a", "b", "c"}, Explains: []Cause{cause.UDPBlocked}}
	sym := Finding{Cause: cause.UDPBlocked, Severity: SeverityCritical, Title: "UDP blocked", Evidence: []string{"a", "b"}}
	other := Finding{Cause: cause.UDPBlocked, Severity: SeverityCritical, Evidence: []string{"a", "z"}}
	out := fold([]Finding{root, sym, other})
	if len(out) != 2 || out[0].Cause != cause.VPNNoUDP || len(out[0].Folded) != 1 || out[0].Folded[0].Title != "UDP blocked" ||
		!slices.Equal(out[0].Explains, []Cause{cause.UDPBlocked}) || out[1].Explains != nil {
		t.Errorf("fold = %+v", out)
	}
	warnRoot := root
	warnRoot.Severity = SeverityWarning
	if out := fold([]Finding{warnRoot, sym}); len(out) != 2 {
		t.Errorf("a critical folded under a warning: %+v", out)
	}
	// Mutual explanations: the earlier rule absorbs the later, not both.
	a := Finding{Cause: cause.HostUnreachable, Severity: SeverityCritical, Evidence: []string{"x"}, Explains: []Cause{cause.TCPBlocked}}
	b := Finding{Cause: cause.TCPBlocked, Severity: SeverityCritical, Evidence: []string{"x"}, Explains: []Cause{cause.HostUnreachable}}
	if out := fold([]Finding{a, b}); len(out) != 1 || out[0].Cause != cause.HostUnreachable {
		t.Errorf("mutual fold = %+v", out)
	}
	// Chains end at the last root.
	c := Finding{Cause: cause.VPNRequired, Severity: SeverityCritical, Evidence: []string{"x", "y"}, Explains: []Cause{cause.HostUnreachable}}
	if out := fold([]Finding{c, a, b}); len(out) != 1 || len(out[0].Folded) != 2 {
		t.Errorf("chain fold = %+v", out)
	}
}

// The text report starts with the verdict and the headline in plain
// words, then the evidence; --verbose adds the environment with the
// route through the tunnel and what could not be determined.
func TestTextHeadlineAndEnvironment(t *testing.T) {
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	e := env([]probe.Interface{ifLAN, ifVPN}, viaVPN("172.16.5.9"))
	e.Unknown = []string{"no IPv6 default route"}
	e.Proxy = probe.ProxyInfo{HTTPSProxy: "http://proxy.corp:3128"}
	e.Names = []probe.NameInfo{{Name: "pbx.corp", Addrs: []probe.AddrInfo{{Addr: "172.16.5.9", Scope: probe.ScopePrivate}}}}
	rep := Build(p, map[string]string{"server": "pbx.corp"}, "test", time.Unix(0, 0), time.Second, vpnNoUDPChecks(), e, probe.RunInfo{})
	if rep.Verdict != VerdictFailed || rep.Headline().Cause != cause.VPNNoUDP {
		t.Fatalf("verdict %s headline %v", rep.Verdict, causes(rep.Findings))
	}
	if !strings.Contains(rep.Headline().Quote, "VPN tunnel") || !slices.ContainsFunc(rep.Headline().Refs, func(r string) bool {
		return strings.HasPrefix(r, `C4B, "Why are softphone calls`) && strings.HasSuffix(r, `section "Cause 2"`)
	}) {
		t.Errorf("headline does not quote the seed: %+v", rep.Headline())
	}
	var plain, verbose bytes.Buffer
	if err := WriteText(&plain, rep, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&verbose, rep, TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	out := plain.String()
	iPlain := strings.Index(out, "In plain words: The VPN on this computer does not carry call audio")
	iCause := strings.Index(out, "Cause: CRITICAL vpn-no-udp")
	iChecks := strings.Index(out, "\nChecks\n")
	if iPlain < 0 || iCause < iPlain || iChecks < iCause {
		t.Errorf("order: plain words %d, cause %d, checks %d\n%s", iPlain, iCause, iChecks, out)
	}
	if strings.Contains(out, "\nEnvironment\n") {
		t.Error("environment shown without --verbose")
	}
	v := verbose.String()
	for _, want := range []string{
		"VPN up: tun0",
		"tun0: tunnel, VPN (linux link kind tun), up, mtu 1280",
		"route to 172.16.5.9: dev tun0 (directly connected), mtu 1280, through the VPN",
		"pbx.corp resolves to 172.16.5.9 (private)",
		"Not determined: no IPv6 default route",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("verbose text lacks %q\n%s", want, v)
		}
	}
	for _, line := range strings.Split(v, "\n") {
		if len(line) > 80 {
			t.Errorf("line wider than 80 columns: %q", line)
		}
	}
}

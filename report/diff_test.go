package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

// diffSite builds xphone reports of one site from a few facts, so each
// diff case changes exactly one of them.
type diffSite struct {
	sig     probe.Status
	ranges  []probe.UDPSubRange
	rtt     float64
	route   probe.Route
	addrs   []string
	mapping probe.NATBehavior
	day     int
}

func (s diffSite) report(t testing.TB) *Report {
	t.Helper()
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	class := probe.ErrorClass("")
	if s.sig == probe.StatusFail {
		class = probe.ClassTimeout
	}
	sig := check("signalling", probe.KindTCP).at("pbx.example", "192.0.2.10").port(2230).status(s.sig, class).r()
	media := goodMedia()
	media.RTTMeanMS = s.rtt
	ice := siteICE.ice("two-ended", probe.ICEDetails{State: "connected", SelectedVia: "host",
		Pairs: []probe.ICEPair{pair(hostA, hostB, "succeeded", true)}, Media: media}).r()
	env := probe.Environment{Routes: []probe.Route{s.route}, Names: []probe.NameInfo{{Name: "pbx.example"}},
		NAT: &probe.NATInfo{Mapping: s.mapping}}
	for _, a := range s.addrs {
		env.Names[0].Addrs = append(env.Names[0].Addrs, probe.AddrInfo{Addr: a, Scope: probe.ScopePublic})
	}
	sweep := check("media-range", probe.KindUDPRange).udp().atTURN().runs(s.ranges...).receipts().r()
	sweep.Address = "192.0.2.10"
	return Build(p, map[string]string{"server": "pbx.example"}, "test",
		time.Date(2026, 5, s.day, 10, 0, 0, 0, time.UTC), time.Second, []probe.Result{sig, sweep, ice}, env, probe.RunInfo{})
}

func cleanSite() diffSite {
	return diffSite{sig: probe.StatusPass, ranges: []probe.UDPSubRange{run(30000, 33000, probe.PortOpen, "")}, rtt: 20,
		route:   probe.Route{Destination: "192.0.2.10", Interface: "eth0", How: "netlink"},
		addrs:   []string{"192.0.2.10"},
		mapping: probe.NATEndpointIndependent, day: 2}
}

func TestCompare(t *testing.T) {
	partial := []probe.UDPSubRange{run(30000, 30999, probe.PortOpen, ""), run(31000, 33000, probe.PortFiltered, probe.DirInbound)}
	tests := []struct {
		name     string
		change   func(*diffSite)
		kind     ChangeKind
		trend    Trend
		summary  string // of the change of that kind
		verdict  Verdict
		headline string
	}{
		{"range closed", func(s *diffSite) { s.ranges = partial }, ChangeRange, TrendWorse, "UDP 31000-33000 closed", VerdictFailed,
			"UDP 31000-33000 closed since 2026-05-02; unchanged: signalling, ice."},
		{"signalling blocked", func(s *diffSite) { s.sig = probe.StatusFail }, ChangeCheck, TrendWorse, "TCP pbx.example (signalling) fails (timeout)", VerdictFailed,
			"TCP pbx.example (signalling) fails (timeout) since 2026-05-02"},
		{"now through the VPN", func(s *diffSite) {
			s.route = probe.Route{Destination: "192.0.2.10", Interface: "tun0", ViaVPN: true, How: "netlink"}
		},
			ChangeRoute, TrendChanged, "the route to 192.0.2.10 now goes through the VPN (tun0)", VerdictOK,
			"the route to 192.0.2.10 now goes through the VPN (tun0) since 2026-05-02; unchanged: signalling, media-range, ice."},
		{"address added", func(s *diffSite) { s.addrs = append(s.addrs, "192.0.2.11") }, ChangeAddress, TrendChanged,
			"pbx.example has a new address 192.0.2.11", VerdictOK,
			"pbx.example has a new address 192.0.2.11 since 2026-05-02"},
		{"address gone", func(s *diffSite) { s.addrs = nil }, ChangeAddress, TrendChanged, "pbx.example no longer resolves to 192.0.2.10", VerdictOK,
			"pbx.example no longer resolves to 192.0.2.10 since 2026-05-02"},
		{"NAT turned symmetric", func(s *diffSite) { s.mapping = probe.NATAddressAndPortDependent }, ChangeNAT, TrendWorse,
			"the NAT mapping is address-and-port-dependent, was endpoint-independent", VerdictDegraded,
			"the NAT mapping is address-and-port-dependent, was endpoint-independent since 2026-05-02"},
		{"latency over the limit", func(s *diffSite) { s.rtt = 180 }, ChangeMedia, TrendWorse, "high-latency 180.00 over the limit of 100 (was 20.0)", VerdictDegraded,
			"high-latency 180.00 over the limit of 100 (was 20.0) since 2026-05-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := cleanSite()
			before := site.report(t)
			tt.change(&site)
			site.day = 20
			after := site.report(t)
			for _, dir := range []string{"forward", "back"} {
				old, cur, trend := before, after, tt.trend
				if dir == "back" {
					old, cur = after, before
					trend = map[Trend]Trend{TrendWorse: TrendBetter, TrendChanged: TrendChanged}[tt.trend]
				}
				d, err := Compare(old, cur)
				if err != nil {
					t.Fatal(err)
				}
				c := changeOf(d, tt.kind)
				if c == nil {
					if tt.kind == ChangeMedia && dir == "back" {
						continue // a figure back within its limit is the cause going away
					}
					t.Fatalf("%s: no %s change in %+v", dir, tt.kind, d.Changes)
				}
				if c.Trend != trend {
					t.Errorf("%s: trend %s, want %s", dir, c.Trend, trend)
				}
				if dir == "forward" {
					if c.Summary != tt.summary {
						t.Errorf("summary %q, want %q", c.Summary, tt.summary)
					}
					if d.Verdict != tt.verdict {
						t.Errorf("verdict %s, want %s (%+v)", d.Verdict, tt.verdict, d.Changes)
					}
					if tt.headline == "" || !strings.HasPrefix(d.Headline, tt.headline) {
						t.Errorf("headline %q, want it to start %q", d.Headline, tt.headline)
					}
				} else if d.Verdict == VerdictFailed {
					t.Errorf("back: verdict %s, but nothing critical is new", d.Verdict)
				}
			}
		})
	}
}

func changeOf(d *Diff, k ChangeKind) *Change {
	for i := range d.Changes {
		if d.Changes[i].Kind == k {
			return &d.Changes[i]
		}
	}
	return nil
}

func TestCompareUnchangedAndRefusals(t *testing.T) {
	a, b := cleanSite().report(t), cleanSite().report(t)
	d, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changes) != 0 || d.Verdict != VerdictOK || d.Headline != "No change since 2026-05-02." {
		t.Errorf("unchanged: %+v", d)
	}
	var text, js bytes.Buffer
	if err := WriteDiffText(&text, d); err != nil || !strings.Contains(text.String(), "No change since") || strings.Contains(text.String(), "Changes") {
		t.Errorf("text %q, %v", text.String(), err)
	}
	if err := WriteDiffJSON(&js, d); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["schema"] != DiffSchema || back["verdict"] != "ok" {
		t.Errorf("JSON %s (%v)", js.String(), err)
	}
	b.Profile = "generic"
	if _, err := Compare(a, b); !errors.Is(err, ErrNotComparable) {
		t.Errorf("different profiles: %v", err)
	}
}

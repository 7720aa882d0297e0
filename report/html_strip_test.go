package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

// TestPortStripAgreesWithRule: the HTML port strip draws as blocked
// exactly the runs the udp-port-range rule names, for a responder sweep
// and for a live sample whose scattered silence is no block.
func TestPortStripAgreesWithRule(t *testing.T) {
	run := func(first, last uint16, state, dir string) probe.UDPSubRange {
		return probe.UDPSubRange{Range: probe.PortRange{First: first, Last: last}, State: state, Direction: dir, Ports: int(last-first) + 1}
	}
	cases := []struct {
		name string
		d    probe.UDPRangeDetails
	}{
		{"responder sweep with receipts", probe.UDPRangeDetails{Receipts: true, Ranges: "30000-31299", Ports: 1300, Open: 1000, Filtered: 100, Closed: 100, Prohibited: 100,
			SubRanges: []probe.UDPSubRange{run(30000, 30999, probe.PortOpen, ""), run(31000, 31099, probe.PortFiltered, probe.DirInbound),
				run(31100, 31199, probe.PortClosed, probe.DirReturn), run(31200, 31299, probe.PortProhibited, "")}}},
		{"live sample, one run named, scattered silence beside it", probe.UDPRangeDetails{Ranges: "40000-40910", Ports: 60, Open: 40, Filtered: 20, Sampled: true,
			SubRanges: []probe.UDPSubRange{run(40000, 40100, probe.PortOpen, ""), run(40101, 40110, probe.PortFiltered, ""),
				run(40111, 40900, probe.PortOpen, ""), run(40901, 40902, probe.PortFiltered, "")},
			Live: &probe.UDPLiveDetails{Verdict: probe.LiveBlocked, Reached: 40, Blocked: []probe.UDPSubRange{run(40101, 40110, probe.PortFiltered, "")}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			c := probe.Result{ID: "media", Kind: probe.KindUDPRange, Transport: probe.TransportUDP, Target: "192.0.2.7", Address: "192.0.2.7",
				Status: probe.StatusFail, Class: probe.ClassTimeout, Details: probe.Details{UDPRange: &d}}
			fs := ruleUDPPortRangeBlocked(&Input{Checks: []probe.Result{c}})
			if len(fs) != 1 {
				t.Fatalf("rule found %d findings, want 1", len(fs))
			}
			named := strings.Split(fs[0].Facts["blocked"], ",")
			m, ok := newPortMap(c)
			if !ok {
				t.Fatal("no port map")
			}
			for i, seg := range m.Segments {
				drawn := seg.Class == "blocked" || seg.Class == "inbound" || seg.Class == "return"
				s := d.SubRanges[i]
				inNamed := slices.ContainsFunc(d.BlockedRuns(), func(b probe.UDPSubRange) bool {
					return b.Range.First <= s.Range.First && s.Range.Last <= b.Range.Last && slices.Contains(named, b.Range.String())
				})
				if drawn != inNamed {
					t.Errorf("segment %s drawn %q, but the rule names %v", s, seg.Class, named)
				}
			}
		})
	}
}

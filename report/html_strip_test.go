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
	media := check("media", probe.KindUDPRange).udp().atPBX()
	cases := []struct {
		name string
		c    probe.Result
	}{
		{"responder sweep with receipts", media.runs(run(30000, 30999, probe.PortOpen, ""), run(31000, 31099, probe.PortFiltered, probe.DirInbound),
			run(31100, 31199, probe.PortClosed, probe.DirReturn), run(31200, 31299, probe.PortProhibited, "")).receipts().r()},
		{"live sample, one run named, scattered silence beside it", media.sampled(probe.LiveBlocked, 60, run(30150, 30150, probe.PortFiltered, "")).
			failed(probe.ClassTimeout).sweep(func(d *probe.UDPRangeDetails) {
			d.SubRanges = append(d.SubRanges, run(30151, 30400, probe.PortOpen, ""), run(30401, 30401, probe.PortFiltered, ""))
		}).r()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.c.Details.UDPRange
			fs := ruleUDPPortRangeBlocked(&Input{Checks: []probe.Result{tc.c}})
			if len(fs) != 1 {
				t.Fatalf("rule found %d findings, want 1", len(fs))
			}
			named := strings.Split(fs[0].Facts["blocked"], ",")
			m, ok := newPortMap(tc.c)
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

// TestTokenRefusedSweepNamesNoBlock: a responder that refused our token
// leaves its ports silent; that silence is no block, for the rule and the
// strip alike, even when some ports answered before the refusal.
func TestTokenRefusedSweepNamesNoBlock(t *testing.T) {
	c := check("media", probe.KindUDPRange).udp().atPBX().runs(run(30000, 30099, probe.PortOpen, ""), run(30100, 30199, probe.PortFiltered, "")).
		sweep(func(d *probe.UDPRangeDetails) { d.TokenRefused = true }).r()
	if fs := ruleUDPPortRangeBlocked(&Input{Checks: []probe.Result{c}}); len(fs) != 0 {
		t.Errorf("rule named %q, want nothing", fs[0].Title)
	}
	m, _ := newPortMap(c)
	for _, seg := range m.Segments {
		if seg.Class == "blocked" || seg.Class == "inbound" || seg.Class == "return" {
			t.Errorf("segment %q drawn %s", seg.Label, seg.Class)
		}
	}
}

package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// The udp-range kind: how its evidence renders.

func init() {
	registerRender(probe.KindUDPRange, kindRender{Summary: udpRangeSummary, Details: udpRangeLines, Metrics: udpRangeMetrics})
}

// udpRangeSummary: the port-range map in one or two lines, shown even for
// a passing sweep (it is what a field tech runs the check for).
func udpRangeSummary(c probe.Result) []string {
	u := c.Details.UDPRange
	if u == nil || u.Ports == 0 {
		return nil
	}
	head := fmt.Sprintf("%d/%d ports open", u.Open, u.Ports)
	if u.Sampled {
		head += fmt.Sprintf(" (sampled from %s)", u.Ranges)
	}
	switch {
	case u.Receipts:
		head += ", receipts from the responder"
	case u.Responder == "stun":
		head += ", a plain STUN server answered (no receipts)"
	}
	if u.RTTMedian > 0 {
		head += fmt.Sprintf(", RTT %.1f ms", u.RTTMedian)
	}
	head += fmt.Sprintf(", %d sent in %d %s", u.Sent, u.Rounds, plural(u.Rounds, "round", "rounds"))
	out := []string{head}
	if len(u.SubRanges) > 1 || (len(u.SubRanges) == 1 && u.SubRanges[0].State != probe.PortOpen) {
		var runs []string
		for i, s := range u.SubRanges {
			if i == 10 {
				runs = append(runs, fmt.Sprintf("… %d more", len(u.SubRanges)-10))
				break
			}
			runs = append(runs, s.String())
		}
		out = append(out, strings.Join(runs, ", "))
	}
	if l := u.Live; l != nil {
		line := fmt.Sprintf("sampled live (no responder): %s, %d reached by STUN or ICMP", l.Verdict, l.Reached)
		if l.Reason != "" {
			line += "; " + l.Reason
		}
		out = append(out, line)
	}
	if u.NotServed > 0 {
		out = append(out, fmt.Sprintf("%d ports not served by the responder (in use on its side, or outside its --udp): not counted as blocked", u.NotServed))
	}
	if u.ReceiptsError != "" {
		out = append(out, "no receipts: "+u.ReceiptsError)
	}
	return out
}

// udpRangeLines: the summary, then the local side (for --verbose and
// failures, which replace the summary).
func udpRangeLines(c probe.Result) []string {
	u := c.Details.UDPRange
	out := udpRangeSummary(c)
	if u == nil || u.LocalAddr == "" {
		return out
	}
	l := "from " + u.LocalAddr
	if u.LocalRange != "" {
		l += " (local range " + u.LocalRange + ")"
	}
	l += fmt.Sprintf(", paced at %d packets/s", u.RatePPS)
	if u.Asymmetric > 0 {
		l += fmt.Sprintf(", %d answers from another address than the one asked", u.Asymmetric)
	}
	return append(out, l)
}

func udpRangeMetrics(cs checkSamples, d probe.Details) {
	x := d.UDPRange
	if x == nil {
		return
	}
	rng := x.Ranges
	cs.s.add(descUDPOpen, foldSum, float64(x.Open), cs.id, rng)
	// Tested ports are those with a state; ports the deadline left
	// untested are not counted as closed.
	cs.s.add(descUDPSwept, foldSum, float64(x.Ports), cs.id, rng)
	for _, st := range []struct {
		name string
		n    int
	}{{probe.PortOpen, x.Open}, {probe.PortClosed, x.Closed}, {probe.PortProhibited, x.Prohibited},
		{probe.PortUnreachable, x.Unreachable}, {probe.PortFiltered, x.Filtered}, {probe.PortNotServed, x.NotServed}} {
		cs.s.add(descUDPPorts, foldSum, float64(st.n), cs.id, rng, st.name)
	}
}

package report

import (
	"fmt"
	"slices"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// rangeChanges: ports of a range swept both times that were reached
// before and are blocked now ("closed"), or the other way ("opened").
// Reached is open or closed (the packet arrived); blocked is filtered,
// prohibited or unreachable; not-served ports say nothing.
func rangeChanges(old, cur *Report) []Change {
	was := map[string]*probe.UDPRangeDetails{}
	for _, c := range old.Checks {
		if c.Details.UDPRange != nil {
			was[c.ID] = c.Details.UDPRange
		}
	}
	var out []Change
	for _, c := range cur.Checks {
		o, n := was[c.ID], c.Details.UDPRange
		if o == nil || n == nil {
			continue
		}
		before, after := portReach(o), portReach(n)
		for _, r := range reachRuns(before, after, true, false) {
			out = append(out, Change{Kind: ChangeRange, Subject: r.String(), Trend: TrendWorse, Before: "reached", After: "blocked",
				Summary: fmt.Sprintf("UDP %s closed", r), Checks: []string{c.ID}})
		}
		for _, r := range reachRuns(before, after, false, true) {
			out = append(out, Change{Kind: ChangeRange, Subject: r.String(), Trend: TrendBetter, Before: "blocked", After: "reached",
				Summary: fmt.Sprintf("UDP %s opened", r), Checks: []string{c.ID}})
		}
	}
	return out
}

// portReach maps each port of the sweep's sub-ranges to reached (true) or
// blocked (false).
func portReach(d *probe.UDPRangeDetails) map[uint16]bool {
	m := map[uint16]bool{}
	for _, s := range d.SubRanges {
		var reached bool
		switch s.State {
		case probe.PortOpen, probe.PortClosed:
			reached = true
		case probe.PortFiltered, probe.PortProhibited, probe.PortUnreachable:
		default:
			continue
		}
		for p := int(s.Range.First); p <= int(s.Range.Last); p++ {
			m[uint16(p)] = reached
		}
	}
	return m
}

// reachRuns are the contiguous port runs that were `was` before and are
// `is` now, among ports known both times.
func reachRuns(before, after map[uint16]bool, was, is bool) []probe.PortRange {
	var ports []int
	for p, b := range before {
		if a, ok := after[p]; ok && b == was && a == is {
			ports = append(ports, int(p))
		}
	}
	slices.Sort(ports)
	var out []probe.PortRange
	for _, p := range ports {
		if n := len(out); n > 0 && int(out[n-1].Last)+1 == p {
			out[n-1].Last = uint16(p)
			continue
		}
		out = append(out, probe.PortRange{First: uint16(p), Last: uint16(p)})
	}
	return out
}

// mediaChanges: a quality finding that is new, with the figure it had
// before on the same check.
func mediaChanges(old, cur *Report) []Change {
	figure := map[Cause]func(*probe.MediaStats) float64{
		cause.HighLatency: func(m *probe.MediaStats) float64 { return m.RTTMeanMS },
		cause.HighJitter:  func(m *probe.MediaStats) float64 { return m.JitterMS },
		cause.PacketLoss:  func(m *probe.MediaStats) float64 { return m.LossPct },
	}
	had := map[Cause]bool{}
	for _, f := range old.Findings {
		had[f.Cause] = true
	}
	media := map[string]*probe.MediaStats{}
	for _, c := range old.Checks {
		if c.Details.ICE != nil && c.Details.ICE.Media != nil {
			media[c.ID] = c.Details.ICE.Media
		}
	}
	var out []Change
	for _, f := range cur.Findings {
		value, ok := figure[f.Cause]
		if !ok || had[f.Cause] || len(f.Evidence) == 0 || f.Facts["measured"] == "" {
			continue
		}
		before := "not measured"
		if m := media[f.Evidence[0]]; m != nil {
			before = fmt.Sprintf("%.1f", value(m))
		}
		out = append(out, Change{Kind: ChangeMedia, Subject: string(f.Cause), Trend: TrendWorse, Before: before, After: f.Facts["measured"],
			Summary: fmt.Sprintf("%s %s over the limit of %s (was %s)", f.Cause, f.Facts["measured"], f.Facts["limit"], before), Checks: f.Evidence})
	}
	return out
}

// envChanges: routes that now go through a VPN (or no longer do, or have
// no route), server addresses added or gone, and the NAT mapping.
func envChanges(old, cur probe.Environment) []Change {
	var out []Change
	routes := map[string]probe.Route{}
	for _, r := range old.Routes {
		routes[r.Destination] = r
	}
	for _, r := range cur.Routes {
		o, ok := routes[r.Destination]
		if !ok || routeText(o) == routeText(r) && o.ViaVPN == r.ViaVPN {
			continue
		}
		trend, what := TrendChanged, "changed"
		switch {
		case r.NoRoute && !o.NoRoute:
			trend, what = TrendWorse, "is gone"
		case r.ViaVPN && !o.ViaVPN:
			trend, what = TrendChanged, "now goes through the VPN ("+r.Interface+")"
		case !r.ViaVPN && o.ViaVPN:
			trend, what = TrendChanged, "no longer goes through the VPN"
		}
		out = append(out, Change{Kind: ChangeRoute, Subject: r.Destination, Trend: trend, Before: routeText(o), After: routeText(r),
			Summary: fmt.Sprintf("the route to %s %s", r.Destination, what)})
	}
	names := map[string][]string{}
	for _, n := range old.Names {
		names[n.Name] = addrsOf(n)
	}
	for _, n := range cur.Names {
		o, ok := names[n.Name]
		if !ok {
			continue
		}
		now := addrsOf(n)
		for _, a := range now {
			if !slices.Contains(o, a) {
				out = append(out, Change{Kind: ChangeAddress, Subject: n.Name, Trend: TrendChanged, Before: "", After: a,
					Summary: fmt.Sprintf("%s has a new address %s", n.Name, a)})
			}
		}
		for _, a := range o {
			if !slices.Contains(now, a) {
				out = append(out, Change{Kind: ChangeAddress, Subject: n.Name, Trend: TrendChanged, Before: a, After: "",
					Summary: fmt.Sprintf("%s no longer resolves to %s", n.Name, a)})
			}
		}
	}
	if o, n := old.NAT, cur.NAT; o != nil && n != nil && o.Mapping != n.Mapping && o.Mapping != probe.NATUnknown && n.Mapping != probe.NATUnknown {
		dependent := probe.NATBehavior.Symmetric
		trend := TrendChanged
		switch {
		case dependent(n.Mapping) && !dependent(o.Mapping):
			trend = TrendWorse
		case dependent(o.Mapping) && !dependent(n.Mapping):
			trend = TrendBetter
		}
		out = append(out, Change{Kind: ChangeNAT, Subject: "nat", Trend: trend, Before: string(o.Mapping), After: string(n.Mapping),
			Summary: fmt.Sprintf("the NAT mapping is %s, was %s", n.Mapping, o.Mapping), Checks: n.Checks})
	}
	return out
}

func addrsOf(n probe.NameInfo) []string {
	var out []string
	for _, a := range n.Addrs {
		out = append(out, a.Addr)
	}
	return out
}

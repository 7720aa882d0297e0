package report

import (
	"slices"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

// Input is everything the diagnosis judges. It is plain data, so every rule
// can be tested from a table of synthetic evidence.
type Input struct {
	Checks []probe.Result
	Env    probe.Environment
	Limits profiles.Limits
	// Run is the run's time budget (zero in rule tests that need none).
	Run probe.RunInfo
}

// Rule is one diagnosis rule: a pure function from the evidence to the
// findings of its cause. Rules never see each other's output; folding one
// cause under another happens afterwards (see fold).
type Rule struct {
	Cause Cause
	Fn    func(in *Input) []Finding
}

// Rules are all rules, in priority order: when two root causes of the same
// severity are found, the earlier one heads the report. Root causes that
// explain others come before their symptoms.
var Rules = []Rule{
	{cause.DNSFailure, ruleDNSFailure},
	{cause.VPNRequired, ruleVPNRequired},
	{cause.VPNNoUDP, ruleVPNNoUDP},
	{cause.MultiHomedServer, ruleMultiHomed},
	{cause.NoRoute, ruleNoRoute},
	{cause.HostUnreachable, ruleHostUnreachable},
	{cause.TCPBlocked, ruleTCPBlocked},
	{cause.PortClosed, rulePortClosed},
	{cause.UDPBlocked, ruleUDPBlocked}, // also finds its narrow form, udp-service-blocked
	{cause.UDPServiceBlocked, func(*Input) []Finding { return nil }},
	{cause.UDPPortRangeBlocked, ruleUDPPortRangeBlocked},
	{cause.TURNAuthFailed, ruleTURNAuthFailed},
	{cause.TURNUnreachable, ruleTURNUnreachable},
	{cause.TURNRelayFailed, ruleTURNRelayFailed},
	{cause.SymmetricNAT, ruleSymmetricNAT},
	{cause.TURNUntested, ruleTURNUntested},
	{cause.SIPRewrite, ruleSIPRewrite},
	{cause.TLSUntrusted, ruleTLSUntrusted},
	{cause.TLSFailed, ruleTLSFailed},
	{cause.WebSocketBlocked, ruleWebSocketBlocked},
	{cause.TLSExpiring, ruleTLSExpiring},
	{cause.ICESignalling, ruleICESignalling},
	{cause.ICEFailed, ruleICEFailed},
	{cause.RelayOnly, ruleRelayOnly},
	{cause.PacketLoss, rulePacketLoss},
	{cause.PacketLoss, ruleLossOnService},
	{cause.HighLatency, ruleHighLatency},
	{cause.HighJitter, ruleHighJitter},
	{cause.SmallMTU, ruleSmallMTU},
	{cause.CutShort, ruleCutShort},
	{cause.Untested, ruleUntested},
}

// Diagnose runs every rule, folds symptoms into the root causes that
// explain them, adds a safety-net finding for failed checks no rule named,
// attaches the profile's remedies and sorts by severity and priority.
func Diagnose(in Input, p *profiles.Profile) []Finding {
	var all []Finding
	for _, r := range Rules {
		for _, f := range r.Fn(&in) {
			if f.Cause == "" {
				f.Cause = r.Cause
			}
			all = append(all, f)
		}
	}
	all = fold(all)
	all = append(all, unexplained(in.Checks, all)...)
	for i := range all {
		attachRemedy(&all[i], p)
	}
	prio := map[Cause]int{}
	for i, r := range Rules {
		prio[r.Cause] = i
	}
	slices.SortStableFunc(all, func(a, b Finding) int {
		if d := sevRank(a.Severity) - sevRank(b.Severity); d != 0 {
			return d
		}
		return prioOf(prio, a.Cause) - prioOf(prio, b.Cause)
	})
	return all
}

func sevRank(s Severity) int {
	switch s {
	case SeverityCritical:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

func prioOf(prio map[Cause]int, c Cause) int {
	if p, ok := prio[c]; ok {
		return p
	}
	return len(prio)
}

// fold merges a finding into a root finding that lists its cause in
// Explains when the symptom's evidence lies wholly within the root's: the
// root already carries that evidence, and the report names causes, not
// symptoms. A finding is never folded into a less severe one (a critical
// must not hide under a warning), and when two findings explain each
// other only the earlier rule (higher priority) absorbs the later. fs is
// in rule order.
func fold(fs []Finding) []Finding {
	into := make([]int, len(fs))
	for i, f := range fs {
		into[i] = -1
		if len(f.Evidence) == 0 {
			continue
		}
		for j, root := range fs {
			if i == j || !slices.Contains(root.Explains, f.Cause) || !subset(f.Evidence, root.Evidence) {
				continue
			}
			if sevRank(root.Severity) > sevRank(f.Severity) {
				continue
			}
			if slices.Contains(f.Explains, root.Cause) && subset(root.Evidence, f.Evidence) && j > i {
				continue // mutual: the earlier rule wins
			}
			into[i] = j
			break
		}
	}
	// Follow chains (a folded into b folded into c) to the final root.
	root := func(i int) int {
		for n := 0; into[i] >= 0 && n < len(fs); n++ {
			i = into[i]
		}
		return i
	}
	out := make([]Finding, 0, len(fs))
	pos := map[int]int{}
	for i := range fs {
		if into[i] < 0 {
			pos[i] = len(out)
			out = append(out, fs[i])
		}
	}
	for i, f := range fs {
		if into[i] < 0 {
			continue
		}
		if p, ok := pos[root(i)]; ok {
			out[p].Folded = append(out[p].Folded, Folded{Cause: f.Cause, Title: f.Title})
		}
	}
	// In the report, explains names the causes actually folded under a
	// finding (the JSON contract), not every cause its rule could fold.
	for i := range out {
		var folded []Cause
		for _, fo := range out[i].Folded {
			if !slices.Contains(folded, fo.Cause) {
				folded = append(folded, fo.Cause)
			}
		}
		out[i].Explains = folded
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// unexplained makes sure no failed check ends in an "ok" verdict: a
// failed check that no finding cites becomes a check-failed finding.
func unexplained(checks []probe.Result, fs []Finding) []Finding {
	cited := map[string]bool{}
	for _, f := range fs {
		for _, id := range f.Evidence {
			cited[id] = true
		}
	}
	var out []Finding
	for _, c := range checks {
		if c.Status != probe.StatusFail || cited[c.ID] {
			continue
		}
		out = append(out, Finding{
			Cause: cause.CheckFailed, Severity: severityFor(c),
			Title:    "Check " + c.ID + " failed",
			Detail:   describe(c),
			Evidence: []string{c.ID},
			Remedy:   checkFailedRemedy(c),
		})
	}
	return out
}

// severityFor is critical for required checks and warning for optional ones.
func severityFor(cs ...probe.Result) Severity {
	for _, c := range cs {
		if !c.Optional {
			return SeverityCritical
		}
	}
	return SeverityWarning
}

func attachRemedy(f *Finding, p *profiles.Profile) {
	if p != nil {
		if r, ok := p.Remedies[string(f.Cause)]; ok {
			f.Remedy, f.Quote = r.Text, r.Quote
			src := r.Source
			if src == "" {
				src = p.Source
			}
			if src != "" && !slices.Contains(f.Refs, src) {
				f.Refs = append(f.Refs, src)
			}
		}
	}
	if f.Remedy == "" {
		in, _ := cause.Of(f.Cause)
		f.Remedy = in.Remedy
	}
	if f.Refs == nil {
		f.Refs = []string{}
	}
	if f.Evidence == nil {
		f.Evidence = []string{}
	}
}

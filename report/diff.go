package report

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// DiffSchema is the JSON schema id of a comparison of two reports.
const DiffSchema = "ucprobe/diff/v1"

// ErrNotComparable: two reports of different profiles say nothing about
// each other.
var ErrNotComparable = errors.New("reports not comparable")

// ChangeKind is the class of fact that changed.
type ChangeKind string

// Change kinds.
const (
	ChangeCheck   ChangeKind = "check"     // a check's status
	ChangeRange   ChangeKind = "udp-range" // ports of a swept range closed or opened
	ChangeNAT     ChangeKind = "nat"       // the NAT mapping behaviour
	ChangeRoute   ChangeKind = "route"     // the route to a probed address (VPN, interface)
	ChangeAddress ChangeKind = "address"   // a server name's addresses
	ChangeMedia   ChangeKind = "media"     // a media figure crossed the profile's limit
	ChangeCause   ChangeKind = "cause"     // a finding appeared or went away
)

// Trend says whether a change made things worse.
type Trend string

// Trends.
const (
	TrendWorse   Trend = "worse"
	TrendBetter  Trend = "better"
	TrendChanged Trend = "changed" // neither: a fact moved
)

// Change is one fact that differs between the old and the new report.
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Subject string     `json:"subject"` // check id, range, name or cause
	Trend   Trend      `json:"trend"`
	Before  string     `json:"before"`
	After   string     `json:"after"`
	// Summary is the change in words ("UDP 31000-33000 closed").
	Summary string `json:"summary"`
	// Checks are the check ids the change is about.
	Checks []string `json:"checks,omitempty"`
}

// DiffSide is what the comparison keeps of one report.
type DiffSide struct {
	Started time.Time         `json:"started"`
	Verdict Verdict           `json:"verdict"`
	Causes  []Cause           `json:"causes"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Diff is the comparison of two reports of one profile: the facts that
// changed, and a headline naming the change that explains today's root
// cause.
type Diff struct {
	Schema   string   `json:"schema"`
	Profile  string   `json:"profile"`
	Old      DiffSide `json:"old"`
	New      DiffSide `json:"new"`
	Headline string   `json:"headline"`
	Changes  []Change `json:"changes"`
	// Verdict is the comparison's own: ok when nothing got worse, failed
	// when a critical cause is new, degraded for anything else worse.
	Verdict Verdict `json:"verdict"`
}

// Compare diffs two reports of the same profile, old first.
func Compare(old, cur *Report) (*Diff, error) {
	if old.Profile != cur.Profile {
		return nil, fmt.Errorf("%w: the baseline is of profile %s, this run of %s", ErrNotComparable, old.Profile, cur.Profile)
	}
	old, cur = Sanitize(old), Sanitize(cur)
	d := &Diff{Schema: DiffSchema, Profile: cur.Profile, Old: sideOf(old), New: sideOf(cur), Changes: []Change{}}
	d.Changes = append(d.Changes, causeChanges(old, cur)...)
	d.Changes = append(d.Changes, checkChanges(old, cur)...)
	d.Changes = append(d.Changes, rangeChanges(old, cur)...)
	d.Changes = append(d.Changes, mediaChanges(old, cur)...)
	d.Changes = append(d.Changes, envChanges(old.Environment, cur.Environment)...)
	attachChecks(cur, d.Changes)
	d.Changes = orderChanges(d.Changes)
	d.Verdict = diffVerdict(old, cur, d.Changes)
	d.Headline = diffHeadline(old, cur, d.Changes)
	return d, nil
}

func sideOf(r *Report) DiffSide {
	s := DiffSide{Started: r.Started, Verdict: r.Verdict, Labels: r.Labels, Causes: []Cause{}}
	for _, f := range r.Findings {
		if f.Severity != SeverityInfo {
			s.Causes = append(s.Causes, f.Cause)
		}
	}
	return s
}

// diffVerdict: a critical cause that is new fails the comparison, any
// other change for the worse degrades it.
func diffVerdict(old, cur *Report, cs []Change) Verdict {
	had := map[Cause]Severity{}
	for _, f := range old.Findings {
		had[f.Cause] = f.Severity
	}
	was := checksByID(old)
	for _, f := range cur.Findings {
		if f.Severity != SeverityCritical {
			continue
		}
		if had[f.Cause] != SeverityCritical {
			return VerdictFailed
		}
		for _, id := range f.Evidence {
			if o, ok := was[id]; ok && o.Status != probe.StatusFail && o.Status != probe.StatusSkip {
				return VerdictFailed // a critical cause that grew to a check that worked
			}
		}
	}
	for _, c := range cs {
		if c.Trend == TrendWorse {
			return VerdictDegraded
		}
	}
	return VerdictOK
}

func causeChanges(old, cur *Report) []Change {
	sev := func(r *Report) map[Cause]Finding {
		m := map[Cause]Finding{}
		for _, f := range r.Findings {
			if f.Severity != SeverityInfo {
				m[f.Cause] = f
			}
		}
		return m
	}
	before, after := sev(old), sev(cur)
	var out []Change
	for c, f := range after {
		if _, ok := before[c]; !ok {
			out = append(out, Change{Kind: ChangeCause, Subject: string(c), Trend: TrendWorse, Before: "absent", After: string(f.Severity),
				Summary: fmt.Sprintf("new %s: %s", c, f.Title), Checks: f.Evidence})
		}
	}
	for c, f := range before {
		if _, ok := after[c]; !ok {
			out = append(out, Change{Kind: ChangeCause, Subject: string(c), Trend: TrendBetter, Before: string(f.Severity), After: "absent",
				Summary: fmt.Sprintf("%s is gone: %s", c, f.Title), Checks: f.Evidence})
		}
	}
	sortChanges(out)
	return out
}

// checkChanges: a check whose status changed, by id. Checks that ran only
// once (a profile variable set one day) are news, not a change.
func checkChanges(old, cur *Report) []Change {
	was := checksByID(old)
	var out []Change
	for _, c := range cur.Checks {
		o, ok := was[c.ID]
		if !ok || o.Status == c.Status || o.Status == probe.StatusSkip || c.Status == probe.StatusSkip {
			continue
		}
		trend := TrendChanged
		switch {
		case rank(c.Status) > rank(o.Status):
			trend = TrendWorse
		case rank(c.Status) < rank(o.Status):
			trend = TrendBetter
		}
		after := string(c.Status)
		if c.Class != "" {
			after += " (" + string(c.Class) + ")"
		}
		verb := map[probe.Status]string{probe.StatusPass: "passes", probe.StatusWarn: "warns", probe.StatusFail: "fails"}[c.Status]
		if c.Class != "" {
			verb += " (" + string(c.Class) + ")"
		}
		out = append(out, Change{Kind: ChangeCheck, Subject: c.ID, Trend: trend, Before: string(o.Status), After: after,
			Summary: fmt.Sprintf("%s %s (%s) %s", strings.ToUpper(string(c.Kind)), c.Target, c.ID, verb), Checks: []string{c.ID}})
	}
	return out
}

func rank(s probe.Status) int {
	switch s {
	case probe.StatusPass:
		return 0
	case probe.StatusWarn:
		return 1
	}
	return 2
}

func sortChanges(cs []Change) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Subject < cs[j].Subject })
}

// unchangedChecks are the ids of checks that passed both times: what the
// headline says still works.
func unchangedChecks(old, cur *Report) []string {
	was := checksByID(old)
	var out []string
	for _, c := range cur.Checks {
		if c.Status == probe.StatusPass && was[c.ID].Status == probe.StatusPass && c.Kind != probe.KindDNS {
			out = append(out, c.ID)
		}
	}
	return out
}

// diffHeadline names the change behind today's root cause: "UDP
// 31000-33000 closed since 2026-05-02; unchanged: signalling".
func diffHeadline(old, cur *Report, cs []Change) string {
	since := old.Started.UTC().Format("2006-01-02")
	if len(cs) == 0 {
		return "No change since " + since + "."
	}
	var lead *Change
	if h := cur.Headline(); h != nil && h.Severity != SeverityInfo {
		lead = explaining(cs, h)
	}
	if lead == nil {
		for i := range cs {
			if cs[i].Trend == TrendWorse && cs[i].Kind != ChangeCause {
				lead = &cs[i]
				break
			}
		}
	}
	if lead == nil {
		lead = &cs[0]
	}
	s := lead.Summary + " since " + since
	if same := unchangedChecks(old, cur); len(same) > 0 {
		if len(same) > 4 {
			same = append(same[:4], fmt.Sprintf("%d more", len(same)-4))
		}
		s += "; unchanged: " + strings.Join(same, ", ")
	}
	return s + "."
}

// checksByID indexes a report's checks by id.
func checksByID(r *Report) map[string]probe.Result {
	out := make(map[string]probe.Result, len(r.Checks))
	for _, c := range r.Checks {
		out[c.ID] = c
	}
	return out
}

// explaining is the most specific change about the headline finding's
// evidence (in changeOrder; a bare cause change explains nothing): a
// closed range or a route before a bare check status.
func explaining(cs []Change, h *Finding) *Change {
	for _, k := range changeOrder {
		for i := range cs {
			if k == ChangeCause || cs[i].Kind != k || cs[i].Trend == TrendBetter {
				continue
			}
			for _, id := range cs[i].Checks {
				if slices.Contains(h.Evidence, id) {
					return &cs[i]
				}
			}
		}
	}
	return nil
}

// attachChecks ties route and address changes to the checks that went to
// that address or name.
func attachChecks(cur *Report, cs []Change) {
	for i := range cs {
		if len(cs[i].Checks) > 0 || (cs[i].Kind != ChangeRoute && cs[i].Kind != ChangeAddress) {
			continue
		}
		for _, c := range cur.Checks {
			if c.Address == cs[i].Subject || c.Host == cs[i].Subject {
				cs[i].Checks = append(cs[i].Checks, c.ID)
			}
		}
	}
}

// changeOrder puts the most specific facts first: a closed range says
// more than the status of the check that swept it.
var changeOrder = []ChangeKind{ChangeRange, ChangeRoute, ChangeAddress, ChangeNAT, ChangeMedia, ChangeCheck, ChangeCause}

// orderChanges sorts by that order (stable) and drops a check's status
// change where a range change of the same check says more.
func orderChanges(cs []Change) []Change {
	ranged := map[string]bool{}
	for _, c := range cs {
		if c.Kind == ChangeRange {
			ranged[c.Checks[0]] = true
		}
	}
	out := cs[:0]
	for _, c := range cs {
		if c.Kind == ChangeCheck && ranged[c.Subject] {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return slices.Index(changeOrder, out[i].Kind) < slices.Index(changeOrder, out[j].Kind)
	})
	return out
}

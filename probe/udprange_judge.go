package probe

import "fmt"

// LiveVerdict is what a live sample of a range (no responder) proves.
type LiveVerdict string

// Live verdicts.
const (
	// LiveReached: every sampled port was reached (STUN answer or ICMP
	// port unreachable), or the silence was too scattered to mean more.
	LiveReached LiveVerdict = "reached"
	// LiveBlocked: the range answers densely except for contiguous silent
	// (or prohibited) sub-ranges: those are blocked.
	LiveBlocked LiveVerdict = "blocked"
	// LiveSilent: nothing answered: inconclusive (a server need not
	// answer where no call runs).
	LiveSilent LiveVerdict = "silent"
	// LiveScattered: answers with silence between them (a server that
	// answers only on ports in use, or a rate limit): inconclusive.
	LiveScattered LiveVerdict = "scattered"
)

// UDPLiveDetails is the judgement of a range sampled without a responder.
type UDPLiveDetails struct {
	Verdict LiveVerdict `json:"verdict"`
	// Reached counts sampled ports that proved the packet arrived.
	Reached int `json:"reached"`
	// Density is Reached over the sampled ports outside the blocked
	// sub-ranges.
	Density float64 `json:"density"`
	// Blocked are the silent or prohibited sub-ranges named as blocked,
	// from the first to the last sampled port of each run.
	Blocked []UDPSubRange `json:"blocked,omitempty"`
	// AnswersSTUN is the profile's statement (with its source) that the
	// far end answers STUN on these ports, which weighs silence more.
	AnswersSTUN string `json:"answers_stun,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// LiveSample is one sampled port and its state (PortOpen, PortClosed,
// PortProhibited, PortFiltered, ...), in port order.
type LiveSample struct {
	Port  uint16
	State string
}

// Thresholds of the live judgement. A run of silence is a block only when
// it spans at least liveMinRun sampled ports (a server that declared it
// answers STUN: liveMinRunDeclared) and the rest of the range answered
// densely (liveDensity; declared: liveDensityDeclared). Scattered silence
// lowers the density, so a far end that answers only some requests (a
// rate limit, ports in use) never yields a block.
const (
	liveMinRun          = 4
	liveMinRunDeclared  = 2
	liveDensity         = 0.9
	liveDensityDeclared = 0.75
)

// JudgeLive judges a live sample. The samples must be in port order; a
// change of declared range (ranges) breaks a run. rounds is how many
// passes the silent ports got: silence that did not outlast
// retransmission (fewer than two passes) blocks nothing.
func JudgeLive(samples []LiveSample, ranges []PortRange, rounds int, answersSTUN string) *UDPLiveDetails {
	d := &UDPLiveDetails{AnswersSTUN: answersSTUN}
	minRun, density := liveMinRun, liveDensity
	if answersSTUN != "" {
		minRun, density = liveMinRunDeclared, liveDensityDeclared
	}
	reached := func(s string) bool { return s == PortOpen || s == PortClosed }
	silentish := func(s string) bool { return s == PortFiltered || s == PortProhibited }
	for _, s := range samples {
		if reached(s.State) {
			d.Reached++
		}
	}
	if d.Reached == 0 {
		d.Verdict, d.Reason = LiveSilent, fmt.Sprintf("none of %d sampled ports answered (STUN) or was refused (ICMP)", len(samples))
		return d
	}
	// Runs of silence, broken by an answer, a port without a state or a
	// change of declared range.
	rangeOf := func(p uint16) int {
		for i, r := range ranges {
			if r.Contains(p) {
				return i
			}
		}
		return -1
	}
	var runs []UDPSubRange
	inRuns, considered := 0, 0
	flush := func(run *UDPSubRange) {
		if run == nil {
			return
		}
		if run.Ports >= minRun || run.State == PortProhibited {
			runs = append(runs, *run)
			inRuns += run.Ports
		}
	}
	var cur *UDPSubRange
	for _, s := range samples {
		if s.State == "" || s.State == PortNotServed {
			flush(cur)
			cur = nil
			continue
		}
		considered++
		if !silentish(s.State) {
			flush(cur)
			cur = nil
			continue
		}
		if cur != nil && rangeOf(cur.Range.Last) == rangeOf(s.Port) {
			cur.Range.Last = s.Port
			cur.Ports++
			if s.State != cur.State {
				cur.State = PortFiltered // mixed silence and prohibited: silent
			}
			continue
		}
		flush(cur)
		cur = &UDPSubRange{Range: PortRange{First: s.Port, Last: s.Port}, State: s.State, Ports: 1}
	}
	flush(cur)
	outside := considered - inRuns
	if outside > 0 {
		d.Density = float64(d.Reached) / float64(outside)
	}
	switch {
	case len(runs) == 0 && d.Reached == considered:
		d.Verdict = LiveReached
	case d.Density < density:
		d.Verdict = LiveScattered
		d.Reason = fmt.Sprintf("%d of %d sampled ports answered, with silence scattered between them: a far end that answers only some requests (ports in use, a rate limit) is not a block", d.Reached, considered)
	case len(runs) == 0:
		d.Verdict = LiveReached
		d.Reason = "the few silent ports are scattered: not a block"
	default:
		// ICMP "prohibited" proves a filter at once; silence only once it
		// outlasted retransmission.
		proven := runs
		if rounds < 2 {
			proven = nil
			for _, r := range runs {
				if r.State == PortProhibited {
					proven = append(proven, r)
				}
			}
		}
		if len(proven) == 0 {
			d.Verdict = LiveScattered
			d.Reason = "the silent ports were not retried: silence that did not outlast retransmission is not a block"
			break
		}
		d.Verdict, d.Blocked = LiveBlocked, proven
	}
	return d
}

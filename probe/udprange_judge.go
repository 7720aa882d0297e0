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
	for _, s := range samples {
		if liveReached(s.State) {
			d.Reached++
		}
	}
	if d.Reached == 0 {
		d.Verdict, d.Reason = LiveSilent, fmt.Sprintf("none of %d sampled ports answered (STUN) or was refused (ICMP)", len(samples))
		return d
	}
	runs, inRuns, considered := silentRuns(samples, ranges, minRun)
	if outside := considered - inRuns; outside > 0 {
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
		if proven := provenRuns(runs, rounds); len(proven) > 0 {
			d.Verdict, d.Blocked = LiveBlocked, proven
			break
		}
		d.Verdict = LiveScattered
		d.Reason = "the silent ports were not retried: silence that did not outlast retransmission is not a block"
	}
	return d
}

func liveReached(state string) bool { return state == PortOpen || state == PortClosed }

// silentRuns are the runs of silent or prohibited samples long enough to
// name (a prohibited port always is), how many samples they hold, and how
// many samples had a state at all. An answer, a port without a state or a
// change of declared range breaks a run.
func silentRuns(samples []LiveSample, ranges []PortRange, minRun int) (runs []UDPSubRange, inRuns, considered int) {
	rangeOf := func(p uint16) int {
		for i, r := range ranges {
			if r.Contains(p) {
				return i
			}
		}
		return -1
	}
	var cur *UDPSubRange
	flush := func() {
		if cur != nil && (cur.Ports >= minRun || cur.State == PortProhibited) {
			runs = append(runs, *cur)
			inRuns += cur.Ports
		}
		cur = nil
	}
	for _, s := range samples {
		switch {
		case s.State == "" || s.State == PortNotServed:
			flush()
			continue
		case s.State != PortFiltered && s.State != PortProhibited:
			considered++
			flush()
			continue
		}
		considered++
		if cur != nil && rangeOf(cur.Range.Last) == rangeOf(s.Port) {
			cur.Range.Last = s.Port
			cur.Ports++
			if s.State != cur.State {
				cur.State = PortFiltered // mixed silence and prohibited: silent
			}
			continue
		}
		flush()
		cur = &UDPSubRange{Range: PortRange{First: s.Port, Last: s.Port}, State: s.State, Ports: 1}
	}
	flush()
	return runs, inRuns, considered
}

// provenRuns: ICMP "prohibited" proves a filter at once; silence only once
// it outlasted retransmission (two passes or more).
func provenRuns(runs []UDPSubRange, rounds int) []UDPSubRange {
	if rounds >= 2 {
		return runs
	}
	var out []UDPSubRange
	for _, r := range runs {
		if r.State == PortProhibited {
			out = append(out, r)
		}
	}
	return out
}

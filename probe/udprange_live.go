package probe

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Live sampling of a far end's media range without a responder: a STUN
// answer of any kind or an ICMP port unreachable proves the packet reached
// the host on that port. The sample is bounded and paced: the range's
// edges and a spread first, then denser between neighbours whose answers
// differ, a few hundred packets at most.
const (
	liveSample = 64  // first pass: edges and a spread
	liveRefine = 8   // ports added between two samples whose answers differ
	livePasses = 3   // the spread and two refinements
	liveBudget = 400 // packets at most, retransmissions included
	liveRate   = 2000
	liveRounds = 3 // each pass: a send and two retransmissions of silent ports
)

// RunsLive reports whether a check that needs a responder still runs
// without one (live sampling); the runner skips the others.
func RunsLive(s Spec) bool { return s.Kind == KindUDPRange }

// udpRangeLive samples spec's ranges on target and judges the sample
// (JudgeLive). The result is a failure naming the blocked sub-ranges, a
// warning when nothing or too little answered (inconclusive), or a pass.
func udpRangeLive(ctx context.Context, spec Spec, cfg *Config, target netip.Addr, res *Result) {
	det := res.Details.UDPRange
	rate := min(liveRate, max(cfg.SweepRate, 0))
	if rate == 0 {
		rate = liveRate
	}
	det.RatePPS, det.Sampled = rate, true
	states := map[uint16]string{}
	tried := map[uint16]bool{}
	ports, _ := sweepPorts(spec.Ranges, liveSample)
	for pass := 0; pass < livePasses && len(ports) > 0 && ctx.Err() == nil; pass++ {
		if room := (liveBudget - det.Sent) / liveRounds; len(ports) > room {
			ports = ports[:max(room, 0)]
		}
		if len(ports) == 0 {
			break
		}
		if err := livePass(ctx, spec, cfg, target, ports, det, states, tried); err != nil {
			res.Fail(Classify(err), err)
			return
		}
		ports = refinePorts(states, spec.Ranges)
	}
	all := make([]uint16, 0, len(states))
	for p := range states {
		all = append(all, p)
	}
	slices.Sort(all)
	merged := &sweeper{ports: all, state: make([]string, len(all)), tried: make([]bool, len(all))}
	for i, p := range all {
		merged.state[i], merged.tried[i] = states[p], tried[p]
	}
	summarize(merged, det, spec.Ranges)
	det.Planned = det.Ports
	if det.Ports == 0 {
		*res = Canceled(spec, "the run ended before any port was sampled")
		return
	}
	samples := make([]LiveSample, len(all))
	for i, p := range all {
		samples[i] = LiveSample{Port: p, State: merged.state[i]}
	}
	det.Live = JudgeLive(samples, spec.Ranges, det.Rounds, spec.AnswersSTUN)
	judgeLive(res, det)
}

// livePass sends one shuffled, paced pass over ports (a send and up to two
// retransmissions of the silent ones) and adds what it saw to det, states
// and tried.
func livePass(ctx context.Context, spec Spec, cfg *Config, target netip.Addr, ports []uint16, det *UDPRangeDetails, states map[uint16]string, tried map[uint16]bool) error {
	sw, err := newSweeper(target, ports, spec.LocalRange, cfg, det.RatePPS)
	if err != nil {
		return err
	}
	sw.maxRounds, sw.shuffle = liveRounds, true
	if det.LocalAddr == "" {
		det.LocalAddr = sw.local.String()
	}
	sw.run(ctx)
	sw.close()
	det.Sent += sw.sent
	det.Rounds = max(det.Rounds, sw.rounds)
	det.Asymmetric += sw.asymmetric
	if m, mx := sw.rttStats(); m > 0 {
		det.RTTMedian, det.RTTMax = m, max(det.RTTMax, mx)
	}
	if sw.answered > 0 {
		det.Responder = "stun"
	}
	for i, p := range sw.ports {
		states[p], tried[p] = sw.state[i], sw.tried[i]
	}
	return nil
}

// judgeLive sets the status from the live judgement.
func judgeLive(res *Result, det *UDPRangeDetails) {
	l := det.Live
	switch l.Verdict {
	case LiveBlocked:
		parts := make([]string, len(l.Blocked))
		class := ClassTimeout
		for i, b := range l.Blocked {
			parts[i] = b.String()
			if b.State == PortProhibited {
				class = ClassProhibited
			}
		}
		res.Fail(class, fmt.Errorf("sampled live (no responder): %d of %d ports answered by STUN or ICMP; silent or refused sub-ranges: %s",
			l.Reached, det.Ports, strings.Join(parts, ", ")))
	case LiveSilent, LiveScattered:
		det.Inconclusive = true
		if l.Verdict == LiveSilent && det.Unreachable > det.Filtered {
			// No route (ICMP or local): that is evidence, not silence.
			res.Fail(ClassUnreachable, fmt.Errorf("no route: %d of %d sampled ports unreachable (sampled live, no responder)", det.Unreachable, det.Ports))
			return
		}
		res.Status = StatusWarn
		res.Error = "inconclusive (sampled live, no responder): " + l.Reason
	}
}

// refinePorts are the next pass's ports: between two sampled neighbours
// (in one declared range) where one reached the host and the other did
// not, up to liveRefine evenly spaced ports not yet sampled.
func refinePorts(states map[uint16]string, ranges []PortRange) []uint16 {
	sampled := make([]uint16, 0, len(states))
	for p := range states {
		sampled = append(sampled, p)
	}
	slices.Sort(sampled)
	var out []uint16
	for i := 1; i < len(sampled); i++ {
		a, b := sampled[i-1], sampled[i]
		if b-a < 2 || liveReached(states[a]) == liveReached(states[b]) || !sameRange(ranges, a, b) {
			continue
		}
		gap := int(b - a - 1)
		k := min(gap, liveRefine)
		for j := 1; j <= k; j++ {
			p := a + uint16(j*(gap+1)/(k+1))
			if _, ok := states[p]; !ok && (len(out) == 0 || out[len(out)-1] != p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func sameRange(ranges []PortRange, a, b uint16) bool {
	for _, r := range ranges {
		if r.Contains(a) {
			return r.Contains(b)
		}
	}
	return false
}

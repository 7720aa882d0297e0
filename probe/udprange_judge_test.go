package probe

import (
	"fmt"
	"testing"
)

// samples builds a sample of ports first..last every step, with the state
// stateOf gives each.
func samples(first, last, step int, stateOf func(p int) string) []LiveSample {
	var out []LiveSample
	for p := first; p <= last; p += step {
		out = append(out, LiveSample{Port: uint16(p), State: stateOf(p)})
	}
	return out
}

func TestJudgeLive(t *testing.T) {
	rng := []PortRange{{First: 30000, Last: 33000}}
	open := func(int) string { return PortOpen }
	silentIn := func(lo, hi int, else_ string) func(int) string {
		return func(p int) string {
			if p >= lo && p <= hi {
				return PortFiltered
			}
			return else_
		}
	}
	for _, tc := range []struct {
		name    string
		s       []LiveSample
		rounds  int
		stun    string
		verdict LiveVerdict
		blocked string
	}{
		{"all answer", samples(30000, 33000, 50, open), 1, "", LiveReached, "[]"},
		{"ICMP port unreachable proves reach too", samples(30000, 33000, 50, func(p int) string {
			if p%100 == 0 {
				return PortClosed
			}
			return PortOpen
		}), 1, "", LiveReached, "[]"},
		{"nothing answers: silent, never a block", samples(30000, 33000, 50, func(int) string { return PortFiltered }), 3, "", LiveSilent, "[]"},
		{"contiguous silent tail", samples(30000, 33000, 50, silentIn(31000, 33000, PortOpen)), 3, "", LiveBlocked, "[31000-33000 filtered]"},
		{"contiguous silence, ICMP elsewhere", samples(30000, 33000, 50, silentIn(32000, 32500, PortClosed)), 3, "", LiveBlocked, "[32000-32500 filtered]"},
		{"silence not retried is not a block", samples(30000, 33000, 50, silentIn(31000, 33000, PortOpen)), 1, "", LiveScattered, "[]"},
		{"rate-limited far end: every other request answered", samples(30000, 33000, 50, func(p int) string {
			if (p/50)%2 == 0 {
				return PortOpen
			}
			return PortFiltered
		}), 3, "", LiveScattered, "[]"},
		{"rate-limited far end: pairs of silence", samples(30000, 33000, 50, func(p int) string {
			if (p/50)%3 == 0 {
				return PortOpen
			}
			return PortFiltered
		}), 3, "", LiveScattered, "[]"},
		{"three silent ports: too short for a block", samples(30000, 33000, 50, silentIn(31000, 31100, PortOpen)), 3, "", LiveReached, "[]"},
		{"three silent ports where the vendor says STUN answers", samples(30000, 33000, 50, silentIn(31000, 31100, PortOpen)), 3, "C4B: STUN ...", LiveBlocked, "[31000-31100 filtered]"},
		{"one prohibited port is a filter", samples(30000, 33000, 50, func(p int) string {
			if p == 31000 {
				return PortProhibited
			}
			return PortOpen
		}), 1, "", LiveBlocked, "[31000 prohibited]"},
		{"silence across two declared ranges is two runs", append(samples(30000, 30300, 50, silentIn(30100, 30300, PortOpen)), samples(40000, 40300, 50, silentIn(40000, 40200, PortOpen))...), 3, "", LiveBlocked, "[30100-30300 filtered 40000-40200 filtered]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ranges := rng
			if tc.name == "silence across two declared ranges is two runs" {
				ranges = []PortRange{{First: 30000, Last: 30300}, {First: 40000, Last: 40300}}
			}
			d := JudgeLive(tc.s, ranges, tc.rounds, tc.stun)
			var b []string
			for _, r := range d.Blocked {
				b = append(b, r.Range.String()+" "+r.State)
			}
			if d.Verdict != tc.verdict || fmt.Sprint(b) != tc.blocked {
				t.Fatalf("verdict %s blocked %v (density %.2f, %s), want %s %s", d.Verdict, b, d.Density, d.Reason, tc.verdict, tc.blocked)
			}
			if (d.Verdict == LiveSilent || d.Verdict == LiveScattered) && d.Reason == "" {
				t.Fatal("an inconclusive verdict needs its reason")
			}
		})
	}
}

func TestRefinePorts(t *testing.T) {
	ranges := []PortRange{{First: 30000, Last: 30100}, {First: 30200, Last: 30300}}
	st := map[uint16]string{30000: PortOpen, 30050: PortOpen, 30100: PortFiltered, 30200: PortFiltered, 30204: PortOpen}
	got := fmt.Sprint(refinePorts(st, ranges))
	// 30050-30100 differ: 8 ports between; 30100-30200 cross ranges: none;
	// 30200-30204 differ: the 3 between.
	if want := "[30055 30061 30066 30072 30077 30083 30088 30094 30201 30202 30203]"; got != want {
		t.Fatalf("refine %s, want %s", got, want)
	}
}

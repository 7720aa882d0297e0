package probe

import (
	"slices"
	"strings"
	"testing"
)

func TestSweepPorts(t *testing.T) {
	r := func(a, b uint16) PortRange { return PortRange{First: a, Last: b} }
	cases := []struct {
		name      string
		ranges    []PortRange
		sample    int
		n         int
		sampled   bool
		mustHave  []uint16
		maxPoints int
	}{
		{"whole range", []PortRange{r(30000, 33000)}, 0, 3001, false, []uint16{30000, 31000, 33000}, 0},
		{"sample larger than range", []PortRange{r(30000, 30010)}, 100, 11, false, []uint16{30000, 30010}, 0},
		{"sampled keeps both edges", []PortRange{r(10000, 59999)}, 2000, 2000, true, []uint16{10000, 59999}, 2001},
		{"sampled over two ranges keeps every edge", []PortRange{r(3478, 3478), r(10000, 59999)}, 500, 500, true, []uint16{3478, 10000, 59999}, 502},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, sampled := sweepPorts(c.ranges, c.sample)
			if sampled != c.sampled {
				t.Errorf("sampled %v, want %v", sampled, c.sampled)
			}
			if !c.sampled && len(got) != c.n {
				t.Errorf("%d ports, want %d", len(got), c.n)
			}
			if c.sampled && (len(got) < c.n-2 || len(got) > c.maxPoints) {
				t.Errorf("%d ports, want about %d (at most %d)", len(got), c.n, c.maxPoints)
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("ports not sorted and distinct")
			}
			for _, p := range c.mustHave {
				if !slices.Contains(got, p) {
					t.Errorf("port %d missing", p)
				}
			}
		})
	}
}

func TestCompress(t *testing.T) {
	ports := []uint16{3478, 30000, 30001, 30002, 30003, 30004, 30005}
	ranges := []PortRange{{First: 3478, Last: 3478}, {First: 30000, Last: 30005}}
	state := []string{PortOpen, PortOpen, PortOpen, PortFiltered, PortFiltered, "", PortFiltered}
	dir := []string{"", "", "", DirInbound, DirReturn, "", DirReturn}
	got := compress(ports, state, dir, ranges)
	want := []UDPSubRange{
		{Range: PortRange{First: 3478, Last: 3478}, State: PortOpen, Ports: 1}, // another declared range: its own run
		{Range: PortRange{First: 30000, Last: 30001}, State: PortOpen, Ports: 2},
		{Range: PortRange{First: 30002, Last: 30002}, State: PortFiltered, Direction: DirInbound, Ports: 1},
		{Range: PortRange{First: 30003, Last: 30003}, State: PortFiltered, Direction: DirReturn, Ports: 1},
		// 30004 untested breaks the run
		{Range: PortRange{First: 30005, Last: 30005}, State: PortFiltered, Direction: DirReturn, Ports: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("compress:\n got %+v\nwant %+v", got, want)
	}
}

func TestJudgeSweep(t *testing.T) {
	sub := func(a, b uint16, st, dir string) UDPSubRange {
		return UDPSubRange{Range: PortRange{First: a, Last: b}, State: st, Direction: dir, Ports: int(b-a) + 1}
	}
	cases := []struct {
		name      string
		det       UDPRangeDetails
		responder string
		status    Status
		class     ErrorClass
		errHas    string
	}{
		{"all open", UDPRangeDetails{Ports: 10, Open: 10, Responder: "ucprobe"}, "r", StatusPass, ClassNone, ""},
		{"not-served ports are no block", UDPRangeDetails{Ports: 10, Open: 8, NotServed: 2, Responder: "ucprobe"}, "r", StatusPass, ClassNone, ""},
		{"part filtered", UDPRangeDetails{Ports: 3001, Open: 1000, Filtered: 2001, Responder: "ucprobe",
			SubRanges: []UDPSubRange{sub(30000, 30999, PortOpen, ""), sub(31000, 33000, PortFiltered, DirInbound)}},
			"r", StatusFail, ClassTimeout, "31000-33000 filtered (inbound)"},
		{"prohibited dominates", UDPRangeDetails{Ports: 10, Prohibited: 9, Filtered: 1}, "r", StatusFail, ClassProhibited, ""},
		{"unreachable", UDPRangeDetails{Ports: 10, Unreachable: 10}, "r", StatusFail, ClassUnreachable, ""},
		{"closed without receipts proves reachability", UDPRangeDetails{Ports: 10, Closed: 10}, "", StatusPass, ClassNone, ""},
		{"closed where the responder serves the port", UDPRangeDetails{Ports: 10, Closed: 10, Receipts: true, Responder: "ucprobe"}, "r", StatusFail, ClassRefused, ""},
		{"closed and silent without a responder: the silence is inconclusive", UDPRangeDetails{Ports: 10, Closed: 5, Filtered: 5}, "", StatusWarn, ClassNone, "inconclusive: no answer on 5 ports"},
		{"prohibited without a responder is a block", UDPRangeDetails{Ports: 10, Prohibited: 5, Filtered: 5}, "", StatusFail, ClassTimeout, ""},
		{"silence without responder is inconclusive", UDPRangeDetails{Ports: 10, Filtered: 10, Responder: "none"}, "", StatusWarn, ClassNone, "inconclusive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Result{ID: "r", Kind: KindUDPRange, Status: StatusPass}
			det := c.det
			judgeSweep(&res, Spec{ID: "r", Kind: KindUDPRange}, &det, &Config{Responder: c.responder})
			if res.Status != c.status || res.Class != c.class || !strings.Contains(res.Error, c.errHas) {
				t.Errorf("got %s/%q %q, want %s/%q containing %q", res.Status, res.Class, res.Error, c.status, c.class, c.errHas)
			}
		})
	}
	res := Result{ID: "r", Kind: KindUDPRange, Status: StatusPass}
	judgeSweep(&res, Spec{ID: "r", Kind: KindUDPRange}, &UDPRangeDetails{}, &Config{})
	if res.Status != StatusSkip || res.Class != ClassCanceled {
		t.Errorf("nothing swept: %s/%s, want skip/canceled", res.Status, res.Class)
	}
}

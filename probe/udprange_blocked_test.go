package probe

import (
	"slices"
	"testing"
)

func sub(first, last uint16, state, dir string) UDPSubRange {
	return UDPSubRange{Range: PortRange{First: first, Last: last}, State: state, Direction: dir, Ports: int(last-first) + 1}
}

// TestIsBlocked: the one judgement of a blocked run, for swept ranges
// (with and without receipts) and live samples.
func TestIsBlocked(t *testing.T) {
	swept := []UDPSubRange{
		sub(30000, 30999, PortOpen, ""),
		sub(31000, 31099, PortFiltered, DirInbound),
		sub(31100, 31199, PortClosed, DirReturn),
		sub(31200, 31209, PortProhibited, ""),
		sub(31210, 31219, PortUnreachable, ""),
		sub(31220, 31229, PortNotServed, ""),
	}
	live := []UDPSubRange{
		sub(40000, 40100, PortOpen, ""),
		sub(40101, 40110, PortFiltered, ""),
		sub(40111, 40115, PortProhibited, ""),
		sub(40116, 40900, PortOpen, ""),
		sub(40901, 40902, PortFiltered, ""), // scattered: outside the named run
		sub(40903, 40910, PortClosed, ""),
	}
	cases := []struct {
		name string
		d    UDPRangeDetails
		want []int // indexes of SubRanges that are blocked
	}{
		{"responder with receipts", UDPRangeDetails{SubRanges: swept, Receipts: true}, []int{1, 2, 3, 4}},
		{"responder without receipts: closed is a port nothing listens on", UDPRangeDetails{SubRanges: swept}, []int{1, 3, 4}},
		{"inconclusive: nothing", UDPRangeDetails{SubRanges: swept, Inconclusive: true}, nil},
		{"token refused: nothing", UDPRangeDetails{SubRanges: swept, Receipts: true, TokenRefused: true}, nil},
		{"live: the judgement's runs only", UDPRangeDetails{SubRanges: live,
			Live: &UDPLiveDetails{Verdict: LiveBlocked, Blocked: []UDPSubRange{sub(40101, 40115, PortFiltered, "")}}}, []int{1, 2}},
		{"live reached: scattered silence is no block", UDPRangeDetails{SubRanges: live,
			Live: &UDPLiveDetails{Verdict: LiveReached}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for i, s := range tc.d.SubRanges {
				if tc.d.IsBlocked(s) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("blocked sub-ranges %v, want %v", got, tc.want)
			}
			runs := tc.d.BlockedRuns()
			if tc.d.Live != nil {
				if !slices.Equal(runs, tc.d.Live.Blocked) {
					t.Errorf("BlockedRuns = %v, want the live judgement's %v", runs, tc.d.Live.Blocked)
				}
				return
			}
			var want []UDPSubRange
			for _, i := range tc.want {
				want = append(want, tc.d.SubRanges[i])
			}
			if !slices.Equal(runs, want) {
				t.Errorf("BlockedRuns = %v, want %v", runs, want)
			}
		})
	}
}

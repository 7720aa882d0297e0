package probe

import (
	"testing"
	"time"
)

// TestSelfRelaySetupFollowsThePath: one silence bound, or four round trips
// at the measured RTO, whichever is longer; never under 2 s.
func TestSelfRelaySetupFollowsThePath(t *testing.T) {
	slow := &Clock{}
	slow.Observe("192.0.2.1", 480*time.Millisecond)
	for _, tc := range []struct {
		name  string
		clock *Clock
		want  time.Duration
	}{
		{"nothing measured yet: one silence bound at the initial RTO", nil, (*Clock)(nil).UDPSilence()},
		{"fast path", func() *Clock { c := &Clock{}; c.Observe("192.0.2.1", 5*time.Millisecond); return c }(), 2 * time.Second},
		{"480 ms path", slow, max(selfRelayTransactions*slow.RTO(), slow.UDPSilence())},
	} {
		if got := selfRelaySetup(tc.clock); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if selfRelaySetup(slow) <= 2*time.Second {
		t.Errorf("a 480 ms path keeps the fixed 2 s")
	}
}

package probetest

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestEventually(t *testing.T) {
	var n atomic.Int32
	if !Eventually(time.Second, func() bool { return n.Add(1) >= 3 }) || n.Load() != 3 {
		t.Errorf("a condition that holds on the third poll: held after %d polls", n.Load())
	}
	if Eventually(20*time.Millisecond, func() bool { return false }) {
		t.Error("a condition that never holds was reported as held")
	}
}

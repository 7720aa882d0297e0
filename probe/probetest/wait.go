package probetest

import (
	"runtime"
	"testing"
	"time"
)

// Eventually polls cond until it holds or within has passed, and reports
// whether it held. The bound only keeps a broken test from hanging: it is
// never what a test measures. Polling starts at 1 ms and backs off to
// 50 ms, so a condition that holds soon costs little.
func Eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	wait := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait) // polling a condition with no event to wait on
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// WaitGoroutines fails t, with every goroutine's stack, unless the
// goroutine count falls to at most max within the bound (goroutines end
// just after the sockets they serve close).
func WaitGoroutines(t testing.TB, max int, within time.Duration) {
	t.Helper()
	if Eventually(within, func() bool { return runtime.NumGoroutine() <= max }) {
		return
	}
	buf := make([]byte, 1<<20)
	t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), max, buf[:runtime.Stack(buf, true)])
}

package exporter

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
	"go.uber.org/goleak"
)

// leakProbes is how many probes the leak check runs: a goroutine or a
// descriptor kept per probe would show as at least this many.
const leakProbes = 200

// TestExporterNoLeaks runs leakProbes probes (open, closed and refused
// targets, 8 at a time) through the real server, stops it, and finds no
// goroutine and no file descriptor left over.
func TestExporterNoLeaks(t *testing.T) {
	// Registered first, so it runs after every other cleanup (the test's
	// own servers hold descriptors and goroutines until theirs).
	ignore := goleak.IgnoreCurrent()
	fdsBefore := probetest.OpenFDs(t)
	t.Cleanup(func() {
		goleak.VerifyNone(t, ignore)
		if after := probetest.OpenFDs(t); fdsBefore >= 0 && after > fdsBefore {
			t.Errorf("open file descriptors: %d before, %d after %d probes", fdsBefore, after, leakProbes)
		}
	})
	open := probetest.SilentTCPListener(t)
	closed := probetest.ClosedTCPPort(t)
	dir := t.TempDir()
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", fmt.Sprintf(`
max_concurrent: 4
modules:
  open: {profile: generic, vars: {tcp: "%d"}, allowed_targets: [127.0.0.1]}
  closed: {profile: generic, vars: {tcp: "%d"}, allowed_targets: [127.0.0.1]}
`, open, closed)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := serveExporter(t, s.e, newCapListener(ln, 16, true, nil), webConfig{})
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Timeout: 20 * time.Second, Transport: tr}
	paths := []string{"/probe?module=open&target=127.0.0.1", "/probe?module=closed&target=127.0.0.1", "/probe?module=open&target=127.0.0.9"}
	want := []int{http.StatusOK, http.StatusOK, http.StatusForbidden}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				resp, err := client.Get("http://" + ln.Addr().String() + paths[i%3])
				if err != nil {
					t.Error(err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != want[i%3] {
					t.Errorf("%s: HTTP %d, want %d", paths[i%3], resp.StatusCode, want[i%3])
				}
			}
		})
	}
	for i := range leakProbes {
		work <- i
	}
	close(work)
	wg.Wait()
	tr.CloseIdleConnections()
	stop()
	s.srv.Close()
	if busy, queued := s.e.slots.counts(); busy != 0 || queued != 0 {
		t.Errorf("after all probes: %d slots held, %d waiting", busy, queued)
	}
}

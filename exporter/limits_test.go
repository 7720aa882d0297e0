package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/pipeline"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/report"
)

// gatedRun wraps the exporter's real run: each probe waits at the gate
// (or for its context) before it runs, and the peak of probes running at
// once is recorded.
type gatedRun struct {
	gate      chan struct{}
	cur, peak atomic.Int32
	entered   atomic.Int32
}

func gate(e *exporter) *gatedRun {
	g := &gatedRun{gate: make(chan struct{})}
	real := e.run
	e.run = func(ctx context.Context, j pipeline.Job) (*report.Report, error) {
		n := g.cur.Add(1)
		defer g.cur.Add(-1)
		for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
		g.entered.Add(1)
		select {
		case <-g.gate:
		case <-ctx.Done():
		}
		return real(ctx, j)
	}
	return g
}

// probeAll starts n probes at once and returns their HTTP codes when all
// have answered.
func probeAll(t *testing.T, s *expServer, n int, path, scrape string) func() []int {
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes[i], _ = s.get(t, path, scrape) })
	}
	return func() []int { wg.Wait(); return codes }
}

// TestExporterLimitSurvivesReloads is issue 14's finding 2 with its
// numbers: max_concurrent 2, two probes started before each of 3 reloads.
// Before, each reload made a new semaphore and all 6 ran at once; now 2
// run and 4 wait, and every probe (in flight or queued) answers after the
// reloads, though the last one renamed its module.
func TestExporterLimitSurvivesReloads(t *testing.T) {
	open := probetest.SilentTCPListener(t)
	dir := t.TempDir()
	conf := func(name string) string {
		return fmt.Sprintf("max_concurrent: 2\nmodules:\n  %s:\n    profile: generic\n    vars: {tcp: \"%d\"}\n    allowed_targets: [127.0.0.1]\n", name, open)
	}
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", conf("a")))
	g := gate(s.e)
	var waits []func() []int
	for i := range 3 {
		waits = append(waits, probeAll(t, s, 2, "/probe?module=a&target=127.0.0.1", "30"))
		waitFor(t, func() bool { busy, queued := s.e.slots.counts(); return busy == 2 && queued == 2*i })
		if i == 2 {
			probetest.WriteFile(t, dir, "probes.yaml", conf("b"))
		}
		if code, body := postReload(t, s); code != http.StatusOK {
			t.Fatalf("reload %d: HTTP %d %q", i+1, code, body)
		}
	}
	if busy, queued := s.e.slots.counts(); busy != 2 || queued != 4 {
		t.Fatalf("after 3 reloads: %d running, %d waiting; want 2 and 4", busy, queued)
	}
	if n := g.entered.Load(); n != 2 {
		t.Fatalf("after 3 reloads %d probes started, want 2", n)
	}
	close(g.gate)
	for _, wait := range waits {
		for i, code := range wait() {
			if code != http.StatusOK {
				t.Errorf("probe %d: HTTP %d after the reloads, want 200", i, code)
			}
		}
	}
	if p := g.peak.Load(); p != 2 {
		t.Errorf("peak of probes running at once: %d, want 2 (max_concurrent)", p)
	}
	if n := g.entered.Load(); n != 6 {
		t.Errorf("%d probes ran, want 6", n)
	}
	if _, ok := s.e.cfg.Load().Modules["b"]; !ok {
		t.Error("the last reload did not take effect")
	}
}

// TestExporterReloadChangesLimit: a reload to max_concurrent 3 admits a
// third probe at once, without restarting anything.
func TestExporterReloadChangesLimit(t *testing.T) {
	open := probetest.SilentTCPListener(t)
	dir := t.TempDir()
	conf := func(n int) string {
		return fmt.Sprintf("max_concurrent: %d\nmodules:\n  a:\n    profile: generic\n    vars: {tcp: \"%d\"}\n    allowed_targets: [127.0.0.1]\n", n, open)
	}
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", conf(2)))
	g := gate(s.e)
	wait := probeAll(t, s, 4, "/probe?module=a&target=127.0.0.1", "30")
	waitFor(t, func() bool { busy, queued := s.e.slots.counts(); return busy == 2 && queued == 2 })
	probetest.WriteFile(t, dir, "probes.yaml", conf(3))
	if code, body := postReload(t, s); code != http.StatusOK {
		t.Fatalf("reload: HTTP %d %q", code, body)
	}
	waitFor(t, func() bool { busy, queued := s.e.slots.counts(); return busy == 3 && queued == 1 })
	close(g.gate)
	for i, code := range wait() {
		if code != http.StatusOK {
			t.Errorf("probe %d: HTTP %d, want 200", i, code)
		}
	}
	if p := g.peak.Load(); p != 3 {
		t.Errorf("peak %d, want 3", p)
	}
}

// TestExporterQueueFull: beyond max_queued waiting probes, the next gets
// 503 at once with one line that names the limit.
func TestExporterQueueFull(t *testing.T) {
	open := probetest.SilentTCPListener(t)
	dir := t.TempDir()
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", fmt.Sprintf(
		"max_concurrent: 1\nmax_queued: 1\nmodules:\n  a:\n    profile: generic\n    vars: {tcp: \"%d\"}\n    allowed_targets: [127.0.0.1]\n", open)))
	g := gate(s.e)
	wait := probeAll(t, s, 2, "/probe?module=a&target=127.0.0.1", "30")
	waitFor(t, func() bool { busy, queued := s.e.slots.counts(); return busy == 1 && queued == 1 })
	code, body := s.get(t, "/probe?module=a&target=127.0.0.1", "30")
	want := "too many probes waiting (max_queued 1, max_concurrent 1): retry at the next scrape, or raise max_queued"
	if code != http.StatusServiceUnavailable || strings.TrimSpace(body) != want {
		t.Errorf("third probe: HTTP %d %q, want 503 %q", code, body, want)
	}
	close(g.gate)
	for i, code := range wait() {
		if code != http.StatusOK {
			t.Errorf("probe %d: HTTP %d, want 200", i, code)
		}
	}
	_, metrics := s.get(t, "/metrics", "")
	if v, _ := probetest.MetricValue(probetest.ParseMetrics(t, metrics), "ucprobe_exporter_requests_rejected_total", map[string]string{"reason": "queue_full"}); v != 1 {
		t.Errorf("rejected{queue_full} = %v, want 1", v)
	}
}

// TestExporterReloadFromLoopbackOnly: POST /-/reload from another address
// is refused in one line and changes nothing; from ::1 it reloads.
func TestExporterReloadFromLoopbackOnly(t *testing.T) {
	dir := t.TempDir()
	path := probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	s := startExporter(t, path)
	probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  b:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	h := s.e.handler()
	for _, tc := range []struct {
		from   string
		header string // a forwarding header a reverse proxy on this host adds
		code   int
		want   string
		module string
	}{
		{"192.0.2.10:40000", "", http.StatusForbidden, "POST /-/reload is accepted from loopback only: send SIGHUP to the exporter or POST from its own host", "a"},
		{"[2001:db8::5]:40000", "", http.StatusForbidden, "accepted from loopback only", "a"},
		{"[::ffff:192.0.2.10]:40000", "", http.StatusForbidden, "accepted from loopback only", "a"},
		{"127.0.0.1:40000", "X-Forwarded-For", http.StatusForbidden, "came through a proxy (X-Forwarded-For)", "a"},
		{"127.0.0.1:40000", "Forwarded", http.StatusForbidden, "came through a proxy (Forwarded)", "a"},
		{"[::1]:40000", "X-Real-Ip", http.StatusForbidden, "came through a proxy (X-Real-Ip)", "a"},
		{"[::1]:40000", "", http.StatusOK, "config reloaded", "b"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/-/reload", nil)
		req.RemoteAddr = tc.from
		if tc.header != "" {
			req.Header[tc.header] = []string{""} // present, even empty, is relayed
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := strings.TrimSpace(rec.Body.String())
		if rec.Code != tc.code || !strings.Contains(body, tc.want) || strings.Contains(body, "\n") {
			t.Errorf("from %s: HTTP %d %q, want %d with %q in one line", tc.from, rec.Code, body, tc.code, tc.want)
		}
		if _, ok := s.e.cfg.Load().Modules[tc.module]; !ok {
			t.Errorf("after a reload from %s: module %s is not in force", tc.from, tc.module)
		}
	}
}

// TestExporterConnectionCap: with --max-connections 2 held by idle
// clients, a third connection reads a one-line 503 at once; when one
// idle client leaves, a new one is served.
func TestExporterConnectionCap(t *testing.T) {
	dir := t.TempDir()
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	capped := newCapListener(ln, 2, true, s.e.m.connRefused.Inc)
	stop := serveExporter(t, s.e, capped, webConfig{})
	defer stop()
	addr := ln.Addr().String()
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	waitFor(t, func() bool { return capped.Open() == 2 })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasPrefix(string(got), "HTTP/1.1 503 ") || !strings.HasSuffix(string(got), "\r\n\r\nucprobe exporter: too many open connections (--max-connections 2); close idle ones or raise the flag\n") {
		t.Errorf("third connection read %q, want a one-line 503", got)
	}
	idle[0].Close()
	waitFor(t, func() bool { return capped.Open() == 1 })
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, func() bool {
		resp, err := client.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	_, metrics := s.get(t, "/metrics", "")
	if v, _ := probetest.MetricValue(probetest.ParseMetrics(t, metrics), "ucprobe_exporter_connections_refused_total", nil); v < 1 {
		t.Errorf("connections_refused_total = %v, want at least 1", v)
	}
}

// serveExporter runs e.serve on ln until the returned stop is called.
func serveExporter(t *testing.T, e *exporter, ln net.Listener, wc webConfig) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.serve(ctx, ln, wc) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

// TestSlots: the limiter on its own. A lower limit admits no one until
// enough holders have left; a waiter that gives up leaves the queue.
func TestSlots(t *testing.T) {
	s := newSlots(2, 1)
	ctx := context.Background()
	for range 2 {
		if err := s.acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.setLimits(1, 1)
	got := make(chan error, 1)
	go func() { got <- s.acquire(ctx) }()
	waitFor(t, func() bool { _, q := s.counts(); return q == 1 })
	if err := s.acquire(ctx); !errors.Is(err, errQueueFull) {
		t.Fatalf("second waiter with max_queued 1: %v, want errQueueFull", err)
	}
	s.release() // 1 held, limit 1: the waiter still waits
	if busy, queued := s.counts(); busy != 1 || queued != 1 {
		t.Fatalf("after one release under limit 1: %d held, %d waiting; want 1 and 1", busy, queued)
	}
	s.release()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- s.acquire(cctx) }()
	waitFor(t, func() bool { _, q := s.counts(); return q == 1 })
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter: %v", err)
	}
	if busy, queued := s.counts(); busy != 1 || queued != 0 {
		t.Errorf("end: %d held, %d waiting; want 1 and 0", busy, queued)
	}
}

// TestShutdownCutsProbesInFlight: a probe still running when the exporter
// stops gets the shutdown's grace, then its context is canceled before
// serve returns. Before, Shutdown canceled no request's context and the
// probe ran on past serve, up to its module's timeout.
func TestShutdownCutsProbesInFlight(t *testing.T) {
	dir := t.TempDir()
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    timeout: 60s\n    allowed_targets: [127.0.0.1]\n"))
	entered, canceled := make(chan struct{}), make(chan struct{})
	s.e.run = func(ctx context.Context, j pipeline.Job) (*report.Report, error) {
		close(entered)
		<-ctx.Done()
		close(canceled)
		return nil, ctx.Err()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := serveExporter(t, s.e, ln, webConfig{})
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		client := &http.Client{Timeout: 10 * time.Second} // so a failing run ends too
		if resp, err := client.Get("http://" + ln.Addr().String() + "/probe?module=a&target=127.0.0.1"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	stop()
	select {
	case <-canceled:
	case <-time.After(2 * time.Second): // a bound, not a measurement: canceled comes at once
		t.Error("serve returned and the probe in flight still ran with a live context")
	}
	<-answered
}

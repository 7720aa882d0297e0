package exporter

import (
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// expServer is an exporter under test behind a loopback HTTP server.
type expServer struct {
	e    *exporter
	srv  *httptest.Server
	logs *probetest.SyncBuffer
}

func startExporter(t *testing.T, configPath string) *expServer {
	t.Helper()
	cfg, err := loadExporterConfig(configPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := &probetest.SyncBuffer{}
	e := newExporter(configPath, cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), "test")
	srv := httptest.NewServer(e.handler())
	t.Cleanup(srv.Close)
	return &expServer{e: e, srv: srv, logs: logs}
}

// failedProbe scrapes path, which must answer 200 with probe_success 0
// (a failed probe is a result, not a refused scrape), and returns the
// metrics and the body.
func (s *expServer) failedProbe(t *testing.T, path string, scrapeTimeout string) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	code, body := s.get(t, path, scrapeTimeout)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d %q, want 200", code, body)
	}
	mfs := probetest.ParseMetrics(t, body)
	if v, ok := probetest.MetricValue(mfs, "probe_success", nil); !ok || v != 0 {
		t.Errorf("probe_success = %v (found %v), want 0", v, ok)
	}
	return mfs, body
}

// get requests path with an optional scrape timeout header.
func (s *expServer) get(t *testing.T, path string, scrapeTimeout string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if scrapeTimeout != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", scrapeTimeout)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func tlsServer(t *testing.T) (port int, caFile string, notAfter time.Time) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the probe hangs up after the handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert := srv.Certificate()
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.Listener.Addr().(*net.TCPAddr).Port, caFile, cert.NotAfter
}

const testSecret = "s3cret-Pa55-never-shown"

// TestExporterProbesLoopback runs real probes through the exporter against
// loopback servers and asserts the metrics Prometheus would store.
func TestExporterProbesLoopback(t *testing.T) {
	open := probetest.SilentTCPListener(t)
	closed := probetest.ClosedTCPPort(t)
	tlsPort, caFile, notAfter := tlsServer(t)
	dir := t.TempDir()
	probetest.WriteFile(t, dir, "turn.pass", testSecret+"\n")
	cfgPath := probetest.WriteFile(t, dir, "probes.yaml", fmt.Sprintf(`
modules:
  tcp_open:
    profile: generic
    vars: {tcp: "%d"}
    allowed_targets: [127.0.0.0/8]
    credentials: {turn_user: alice, turn_pass_file: turn.pass}
  tcp_closed:
    profile: generic
    vars: {tcp: "%d"}
    allowed_targets: [127.0.0.0/8]
  tls_trusted:
    profile: generic
    vars: {tcp: "%d", tls: "%d"}
    ca_file: %s
    allowed_targets: [127.0.0.1]
  tls_untrusted:
    profile: generic
    vars: {tcp: "%d", tls: "%d"}
    allowed_targets: [127.0.0.1]
`, open, closed, tlsPort, tlsPort, caFile, tlsPort, tlsPort))
	s := startExporter(t, cfgPath)
	type L = map[string]string
	type want struct {
		name   string
		labels L
		value  float64
	}
	tests := []struct {
		module string
		wants  []want
		absent []string
	}{
		{"tcp_open", []want{
			{"probe_success", nil, 1},
			{"ucprobe_check_success", L{"check": "tcp", "kind": "tcp"}, 1},
			{"ucprobe_verdict", L{"verdict": "ok"}, 1},
			{"ucprobe_check_skipped", L{"check": "stun", "kind": "stun"}, 1},
		}, []string{"ucprobe_finding", "ucprobe_check_error"}},
		{"tcp_closed", []want{
			{"probe_success", nil, 0},
			{"ucprobe_check_success", L{"check": "tcp", "kind": "tcp"}, 0},
			{"ucprobe_check_error", L{"check": "tcp", "kind": "tcp", "class": "refused"}, 1},
			{"ucprobe_finding", L{"cause": "port-closed", "severity": "critical"}, 1},
			{"ucprobe_verdict", L{"verdict": "failed"}, 1},
		}, nil},
		{"tls_trusted", []want{
			{"probe_success", nil, 1},
			{"ucprobe_check_success", L{"check": "tls", "kind": "tls"}, 1},
			{"ucprobe_tls_cert_expiry_timestamp_seconds", L{"check": "tls"}, float64(notAfter.Unix())},
		}, []string{"ucprobe_finding"}},
		{"tls_untrusted", []want{
			{"probe_success", nil, 0},
			{"ucprobe_check_error", L{"check": "tls", "kind": "tls", "class": "tls"}, 1},
			{"ucprobe_finding", L{"cause": "tls-untrusted", "severity": "critical"}, 1},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.module, func(t *testing.T) {
			code, body := s.get(t, "/probe?module="+tc.module+"&target=127.0.0.1", "5")
			if code != http.StatusOK {
				t.Fatalf("HTTP %d: %s", code, body)
			}
			mfs := probetest.ParseMetrics(t, body)
			// The linter behind `promtool check metrics`.
			problems, err := promlint.New(strings.NewReader(body)).Lint()
			if err != nil || len(problems) > 0 {
				t.Errorf("promlint: %v %v", err, problems)
			}
			for _, w := range tc.wants {
				got, ok := probetest.MetricValue(mfs, w.name, w.labels)
				if !ok || got != w.value {
					t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, got, ok, w.value)
				}
			}
			for _, name := range tc.absent {
				if _, ok := mfs[name]; ok {
					t.Errorf("%s present, want absent", name)
				}
			}
		})
	}
	// The exporter's own metrics count what happened.
	_, body := s.get(t, "/metrics", "")
	mfs := probetest.ParseMetrics(t, body)
	for _, c := range []struct {
		module, result string
		want           float64
	}{{"tcp_open", "success", 1}, {"tcp_closed", "failure", 1}, {"tls_untrusted", "failure", 1}} {
		if v, _ := probetest.MetricValue(mfs, "ucprobe_exporter_probes_total", map[string]string{"module": c.module, "result": c.result}); v != c.want {
			t.Errorf("ucprobe_exporter_probes_total{%s,%s} = %v, want %v", c.module, c.result, v, c.want)
		}
	}
	if v, ok := probetest.MetricValue(mfs, "ucprobe_exporter_probes_in_flight", nil); !ok || v != 0 {
		t.Errorf("probes in flight after all returned: %v", v)
	}

	// The status page lists modules and the last results; debug output
	// shows the log, metrics and report. Neither shows the TURN password.
	_, page := s.get(t, "/", "")
	for _, want := range []string{"tcp_closed", "port-closed", "turn_pass_file", "127.0.0.1"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	code, dbg := s.get(t, "/probe?module=tcp_open&target=127.0.0.1&debug=true", "")
	if code != http.StatusOK {
		t.Errorf("debug: HTTP %d", code)
	}
	for _, want := range []string{"Logs for the probe:", "check=tcp kind=tcp status=pass", "verdict=ok duration_s=", "Metrics that would have been returned:", "probe_success 1", `"schema": "ucprobe/report/v1"`, "credentials: turn_pass_file"} {
		if !strings.Contains(dbg, want) {
			t.Errorf("debug output lacks %q:\n%.1500s", want, dbg)
		}
	}
	for what, text := range map[string]string{"status page": page, "debug output": dbg, "metrics": body, "log": s.logs.String()} {
		if strings.Contains(text, testSecret) {
			t.Errorf("%s leaks the TURN password", what)
		}
	}
}

func TestExporterRefusesBadRequests(t *testing.T) {
	dir := t.TempDir()
	cfgPath := probetest.WriteFile(t, dir, "probes.yaml", `
modules:
  site:
    profile: generic
    allowed_targets: [127.0.0.1, "*.corp.example"]
`)
	s := startExporter(t, cfgPath)
	tests := []struct {
		name, query, scrape string
		code                int
		want                string
	}{
		{"no module", "target=127.0.0.1", "", 400, "module parameter is missing (modules: site)"},
		{"unknown module", "module=nope&target=127.0.0.1", "", 400, `unknown module "nope" (modules: site)`},
		{"no target", "module=site", "", 400, "target parameter is missing"},
		{"url target", "module=site&target=http://127.0.0.1/", "", 400, "not a URL"},
		{"target with port", "module=site&target=pbx.corp.example:443", "", 400, "without a port"},
		{"outside allowlist", "module=site&target=127.0.0.2", "", 403, `target "127.0.0.2" is not in module site's allowed_targets`},
		{"name outside allowlist", "module=site&target=corp.example", "", 403, "allowed_targets"},
		{"bad scrape header", "module=site&target=127.0.0.1", "soon", 400, "X-Prometheus-Scrape-Timeout-Seconds"},
		{"scrape timeout too short", "module=site&target=127.0.0.1", "0.6", 400, "too short"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.get(t, "/probe?"+tc.query, tc.scrape)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("HTTP %d %q, want %d containing %q", code, strings.TrimSpace(body), tc.code, tc.want)
			}
		})
	}
	_, body := s.get(t, "/metrics", "")
	mfs := probetest.ParseMetrics(t, body)
	for reason, want := range map[string]float64{"bad_request": 7, "forbidden": 2} {
		if v, _ := probetest.MetricValue(mfs, "ucprobe_exporter_requests_rejected_total", map[string]string{"reason": reason}); v != want {
			t.Errorf("rejected{%s} = %v, want %v", reason, v, want)
		}
	}
	// A refused request never probes, and its values never become labels.
	if strings.Contains(body, "nope") {
		t.Errorf("an unknown module name became a label value")
	}
}

// TestExporterScrapeTimeout: a check longer than the scrape allows is cut
// by the deadline; the exporter answers like blackbox_exporter (HTTP 200,
// probe_success 0 and a reason metric), not a false "blocked" and not a
// 504 that would make the target's series vanish.
func TestExporterScrapeTimeout(t *testing.T) {
	silent := probetest.SilentTCPListener(t) // accepts TCP, never answers the TLS handshake
	dir := t.TempDir()
	cfgPath := probetest.WriteFile(t, dir, "probes.yaml", fmt.Sprintf(`
max_concurrent: 1
modules:
  stall:
    profile: generic
    vars: {tcp: "%d", tls: "%d"}
    allowed_targets: [127.0.0.1]
`, silent, silent))
	s := startExporter(t, cfgPath)
	mfs, body := s.failedProbe(t, "/probe?module=stall&target=127.0.0.1", "1.5")
	if v, ok := probetest.MetricValue(mfs, "ucprobe_probe_cut_short", map[string]string{"check": "tls"}); !ok || v != 1 {
		t.Errorf("ucprobe_probe_cut_short{check=tls} = %v (found %v), want 1:\n%s", v, ok, body)
	}
	if problems, err := promlint.New(strings.NewReader(body)).Lint(); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", err, problems)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "verdict=timeout") || !strings.Contains(logs, "exceeded the scrape timeout") {
		t.Errorf("no log line for the cut-short probe:\n%s", logs)
	}

	// max_concurrent 1: while one probe stalls, another gets no slot
	// before its scrape timeout and is refused with 503.
	first := make(chan int, 1)
	go func() {
		c, _ := s.get(t, "/probe?module=stall&target=127.0.0.1", "3")
		first <- c
	}()
	waitFor(t, func() bool {
		_, body := s.get(t, "/metrics", "")
		v, _ := probetest.MetricValue(probetest.ParseMetrics(t, body), "ucprobe_exporter_probes_in_flight", nil)
		return v == 1
	})
	code, body := s.get(t, "/probe?module=stall&target=127.0.0.1", "1")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "max_concurrent 1") || strings.Count(strings.TrimSpace(body), "\n") > 0 {
		t.Errorf("second probe: HTTP %d %q, want 503 in one line", code, body)
	}
	if c := <-first; c != http.StatusOK {
		t.Errorf("first probe: HTTP %d, want 200", c)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	if !probetest.Eventually(2*time.Second, cond) {
		t.Fatal("condition not reached within 2 s")
	}
}

func TestExporterReloadKeepsOldConfigWhenInvalid(t *testing.T) {
	dir := t.TempDir()
	cfgPath := probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	s := startExporter(t, cfgPath)
	probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  b:\n    profile: nosuch\n")
	code, body := postReload(t, s)
	if code != http.StatusInternalServerError || !strings.Contains(body, "probes.yaml:3: module b: unknown profile") {
		t.Errorf("reload of an invalid file: HTTP %d %q", code, body)
	}
	if _, ok := s.e.cfg.Load().Modules["a"]; !ok {
		t.Fatal("the old config was dropped")
	}
	_, metrics := s.get(t, "/metrics", "")
	if v, _ := probetest.MetricValue(probetest.ParseMetrics(t, metrics), "ucprobe_exporter_config_last_reload_successful", nil); v != 0 {
		t.Errorf("last_reload_successful = %v after a failed reload", v)
	}
	if !strings.Contains(s.logs.String(), "config reload failed, keeping the old config") {
		t.Errorf("no log line for the failed reload")
	}
	probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  b:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	if code, body := postReload(t, s); code != http.StatusOK {
		t.Fatalf("reload of a valid file: HTTP %d %q", code, body)
	}
	if code, _ := s.get(t, "/probe?module=a&target=127.0.0.1", ""); code != http.StatusBadRequest {
		t.Errorf("module a after reload: HTTP %d, want 400", code)
	}
	_, metrics = s.get(t, "/metrics", "")
	if v, _ := probetest.MetricValue(probetest.ParseMetrics(t, metrics), "ucprobe_exporter_config_last_reload_successful", nil); v != 1 {
		t.Errorf("last_reload_successful = %v after a good reload", v)
	}
}

func postReload(t *testing.T, s *expServer) (int, string) {
	t.Helper()
	resp, err := http.Post(s.srv.URL+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// testutilCount is the number of failed reloads so far.
func testutilCount(e *exporter) float64 {
	var m dto.Metric
	if err := e.m.reloadFailures.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestExporterTargetNotFound: a target name that does not exist is a
// failed probe (HTTP 200, probe_success 0), not a refused scrape.
func TestExporterTargetNotFound(t *testing.T) {
	dir := t.TempDir()
	cfgPath := probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  site:\n    profile: generic\n    allowed_targets: [\"*.corp.example\"]\n")
	s := startExporter(t, cfgPath)
	mfs, _ := s.failedProbe(t, "/probe?module=site&target=gone.corp.example", "")
	if v, ok := probetest.MetricValue(mfs, "ucprobe_target_not_found", nil); !ok || v != 1 {
		t.Errorf("ucprobe_target_not_found = %v (%v), want 1", v, ok)
	}
	_, metrics := s.get(t, "/metrics", "")
	if v, _ := probetest.MetricValue(probetest.ParseMetrics(t, metrics), "ucprobe_exporter_probes_total", map[string]string{"module": "site", "result": "failure"}); v != 1 {
		t.Errorf("probes_total{failure} = %v, want 1", v)
	}
}

// BenchmarkExporterProbe: one /probe round trip (HTTP, plan, a real TCP
// connect on loopback, environment, diagnosis, metrics) per iteration.
func BenchmarkExporterProbe(b *testing.B) {
	port := probetest.AcceptingTCPListener(b)
	dir := b.TempDir()
	p := filepath.Join(dir, "probes.yaml")
	yaml := fmt.Sprintf("modules:\n  m:\n    profile: generic\n    vars: {tcp: \"%d\"}\n    allowed_targets: [127.0.0.1]\n", port)
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := loadExporterConfig(p)
	if err != nil {
		b.Fatal(err)
	}
	e := newExporter(p, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	srv := httptest.NewServer(e.handler())
	defer srv.Close()
	url := srv.URL + "/probe?module=m&target=127.0.0.1"
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("HTTP %d", resp.StatusCode)
		}
	}
}

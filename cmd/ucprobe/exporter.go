package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// defaultExporterListen: 9479 is free among the well-known exporters'
// ports (blackbox 9115, node 9100, snmp 9116).
const defaultExporterListen = ":9479"

// scrapeTimeoutOffset is kept free of the Prometheus scrape timeout so the
// answer gets back before Prometheus gives up (blackbox_exporter: 0.5 s).
const scrapeTimeoutOffset = 500 * time.Millisecond

// minProbeBudget: a probe with less time than this left would only report
// its own deadline.
const minProbeBudget = 200 * time.Millisecond

func exporterCommand() *cli.Command {
	return &cli.Command{
		Name:      "exporter",
		Usage:     "serve scheduled health probes to Prometheus (blackbox_exporter style: /probe?module=NAME&target=HOST)",
		ArgsUsage: " ",
		Description: `Runs a probes.yaml module (a profile plus variables and credential references)
against the target Prometheus names, under the scrape timeout, and answers with
metrics: probe_success, ucprobe_check_success{check,kind}, ucprobe_finding{cause,severity}, ...

  ucprobe exporter --config probes.yaml                 # listens on :9479
  curl 'http://localhost:9479/probe?module=xphone&target=xphone.corp.example'
  curl 'http://localhost:9479/probe?module=xphone&target=xphone.corp.example&debug=true'
  ucprobe exporter --config probes.yaml --check         # validate and exit

/metrics is the exporter's own health, / a status page with the last results.
SIGHUP (or POST /-/reload) reloads probes.yaml; an invalid file keeps the old one.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "probes.yaml `FILE`", Required: true},
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Usage: "`ADDR` to listen on", Value: defaultExporterListen},
			&cli.BoolFlag{Name: "check", Usage: "validate the config, print the modules and exit (0 valid, 3 invalid)"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug lines (every probe's log) to stderr"},
		},
		Action: exporterAction,
	}
}

func exporterAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() > 0 {
		return usagef("exporter: unexpected argument %q (see 'ucprobe exporter --help')", cmd.Args().First())
	}
	cfg, err := loadExporterConfig(cmd.String("config"))
	if err != nil {
		return usageError{err}
	}
	level := slog.LevelInfo
	if cmd.Bool("debug") {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: level}))
	if cmd.Bool("check") {
		w := cmd.Root().Writer
		fmt.Fprintf(w, "%s: ok (%d modules, max_concurrent %d)\n", cfg.File, len(cfg.Modules), cfg.MaxConcurrent)
		for _, n := range cfg.Names() {
			m := cfg.Modules[n]
			fmt.Fprintf(w, "  %s: profile %s, target -> %s, timeout %s, allowed: %s\n", n, m.Profile.ID, m.TargetVar, m.Timeout, m.Allow)
		}
		for _, warn := range cfg.Warnings {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
		return nil
	}
	ln, err := net.Listen("tcp", cmd.String("listen"))
	if err != nil {
		return usagef("--listen %s: %v", cmd.String("listen"), err)
	}
	e := newExporter(cmd.String("config"), cfg, logger)
	logger.Info("ucprobe exporter listening", "addr", ln.Addr().String(), "config", cfg.File, "modules", strings.Join(cfg.Names(), ","), "version", version)
	return e.serve(ctx, ln)
}

// exporter is the HTTP side: config (swapped atomically on reload), its
// own metrics and the recent results for the status page.
type exporter struct {
	path    string
	cfg     atomic.Pointer[exporterConfig]
	log     *slog.Logger
	reg     *prometheus.Registry
	m       exporterMetrics
	recent  *recentResults
	reloadM sync.Mutex
	// run executes a job; tests may wrap it (it is the run command's execute).
	run func(context.Context, job) (*report.Report, error)
}

type exporterMetrics struct {
	probes         *prometheus.CounterVec
	probeDuration  *prometheus.HistogramVec
	rejected       *prometheus.CounterVec
	inFlight       prometheus.Gauge
	reloadOK       prometheus.Gauge
	reloadOKTime   prometheus.Gauge
	reloadFailures prometheus.Counter
}

func newExporter(path string, cfg *exporterConfig, logger *slog.Logger) *exporter {
	e := &exporter{path: path, log: logger, reg: prometheus.NewRegistry(), recent: newRecentResults(50), run: execute}
	e.cfg.Store(cfg)
	f := promauto.With(e.reg)
	e.m = exporterMetrics{
		probes: f.NewCounterVec(prometheus.CounterOpts{Name: "ucprobe_exporter_probes_total",
			Help: "Probes run, by module and result (success, failure, timeout, error)."}, []string{"module", "result"}),
		probeDuration: f.NewHistogramVec(prometheus.HistogramOpts{Name: "ucprobe_exporter_probe_duration_seconds",
			Help: "How long probes took, by module.", Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"module"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{Name: "ucprobe_exporter_requests_rejected_total",
			Help: "Probe requests refused before probing, by reason (bad_request, forbidden, busy)."}, []string{"reason"}),
		inFlight:     f.NewGauge(prometheus.GaugeOpts{Name: "ucprobe_exporter_probes_in_flight", Help: "Probes running now."}),
		reloadOK:     f.NewGauge(prometheus.GaugeOpts{Name: "ucprobe_exporter_config_last_reload_successful", Help: "1 when the last config (re)load succeeded."}),
		reloadOKTime: f.NewGauge(prometheus.GaugeOpts{Name: "ucprobe_exporter_config_last_reload_success_timestamp_seconds", Help: "When the config was last loaded successfully."}),
		reloadFailures: f.NewCounter(prometheus.CounterOpts{Name: "ucprobe_exporter_config_reload_failures_total",
			Help: "Config reloads that failed (the old config stayed in force)."}),
	}
	info := f.NewGaugeVec(prometheus.GaugeOpts{Name: "ucprobe_exporter_build_info", Help: "Version of the running ucprobe exporter."}, []string{"version", "goversion"})
	info.WithLabelValues(version, runtime.Version()).Set(1)
	e.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e.m.reloadOK.Set(1)
	e.m.reloadOKTime.SetToCurrentTime()
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	return e
}

// serve runs the HTTP server until ctx ends; SIGHUP reloads the config.
func (e *exporter) serve(ctx context.Context, ln net.Listener) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv := &http.Server{Handler: e.handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	for {
		select {
		case <-hup:
			_ = e.reload()
		case err := <-errc:
			return err
		case <-ctx.Done():
			e.log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
			<-errc
			return nil
		}
	}
}

// reload loads the config file again; an invalid file keeps the old config.
func (e *exporter) reload() error {
	e.reloadM.Lock()
	defer e.reloadM.Unlock()
	cfg, err := loadExporterConfig(e.path)
	if err != nil {
		e.m.reloadOK.Set(0)
		e.m.reloadFailures.Inc()
		e.log.Error("config reload failed, keeping the old config", "err", err.Error())
		return err
	}
	e.cfg.Store(cfg)
	e.m.reloadOK.Set(1)
	e.m.reloadOKTime.SetToCurrentTime()
	for _, w := range cfg.Warnings {
		e.log.Warn(w)
	}
	e.log.Info("config reloaded", "config", cfg.File, "modules", strings.Join(cfg.Names(), ","))
	return nil
}

func (e *exporter) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/probe", e.handleProbe)
	mux.Handle("/metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST to reload the config", http.StatusMethodNotAllowed)
			return
		}
		if err := e.reload(); err != nil {
			http.Error(w, "config reload failed, the old config stays: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "config reloaded")
	})
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", e.handleStatus)
	return mux
}

// probeError is a request the exporter refuses or cannot finish.
type probeError struct {
	code   int
	reason string // metric label: bad_request, forbidden, busy
	msg    string
}

func (e *exporter) handleProbe(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cfg := e.cfg.Load()
	q := r.URL.Query()
	debug, _ := strconv.ParseBool(q.Get("debug"))
	name, target := q.Get("module"), q.Get("target")
	m, budget, perr := e.admit(cfg, r, name, target)
	if perr != nil {
		e.m.rejected.WithLabelValues(perr.reason).Inc()
		e.log.Warn("probe refused", "status", perr.code, "module", clip(name), "target", clip(target), "err", perr.msg)
		http.Error(w, perr.msg, perr.code)
		return
	}
	target = normHost(target)
	deadline := start.Add(budget)
	// The concurrency limit holds across scrapes; waiting for a slot
	// counts against the scrape's own time.
	wait, cancel := context.WithDeadline(r.Context(), deadline.Add(-minProbeBudget))
	select {
	case cfg.sem <- struct{}{}:
		cancel()
	case <-wait.Done():
		cancel()
		e.m.rejected.WithLabelValues("busy").Inc()
		msg := fmt.Sprintf("too many probes in flight (max_concurrent %d): no slot before the scrape timeout", cfg.MaxConcurrent)
		e.log.Warn("probe refused", "status", http.StatusServiceUnavailable, "module", m.Name, "target", target, "err", msg)
		http.Error(w, msg, http.StatusServiceUnavailable)
		return
	}
	defer func() { <-cfg.sem }()
	e.m.inFlight.Inc()
	defer e.m.inFlight.Dec()

	var logBuf bytes.Buffer
	pcfg := m.Config // a copy: the logger is this probe's own
	if debug || e.log.Enabled(r.Context(), slog.LevelDebug) {
		var h slog.Handler = slog.NewTextHandler(&lockedWriter{w: &logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug})
		pcfg.Logger = slog.New(h).With("module", m.Name, "target", target)
	}
	vars := map[string]string{m.TargetVar: target}
	for k, v := range m.Vars {
		vars[k] = v
	}
	budget = time.Until(deadline)
	if pcfg.Logger != nil {
		pcfg.Logger.Info("beginning probe", "profile", m.Profile.ID, "target_var", m.TargetVar, "budget_s", fmt.Sprintf("%.3f", budget.Seconds()))
	}
	rep, err := e.run(r.Context(), job{Profile: m.Profile, Vars: vars, Config: &pcfg, Timeout: budget})
	took := time.Since(start)
	if pcfg.Logger != nil {
		logProbe(pcfg.Logger, rep, err, took)
	}
	e.m.probeDuration.WithLabelValues(m.Name).Observe(took.Seconds())
	if e.log.Enabled(r.Context(), slog.LevelDebug) && logBuf.Len() > 0 {
		e.log.Debug("probe log", "module", m.Name, "target", target, "log", scrub(logBuf.String(), m.secrets))
	}
	res := recentResult{Time: start, Module: m.Name, Target: target, DurationS: took.Seconds()}

	reg := prometheus.NewRegistry()
	code := http.StatusOK
	switch {
	case errors.Is(err, errNoSuchHost):
		// The target does not exist: a monitoring answer (probe failed),
		// not a refusal; the scrape itself succeeds.
		reg.MustRegister(notFoundCollector(took))
		res.Verdict, res.Headline = string(report.VerdictFailed), "target does not resolve (NXDOMAIN)"
		e.m.probes.WithLabelValues(m.Name, "failure").Inc()
	case err != nil:
		code = http.StatusBadRequest
		res.Verdict, res.Headline = "error", err.Error()
		e.m.probes.WithLabelValues(m.Name, "error").Inc()
	default:
		if err := report.RegisterReport(reg, rep, report.MetricsOptions{}); err != nil {
			code = http.StatusInternalServerError
			res.Verdict, res.Headline = "error", err.Error()
			e.m.probes.WithLabelValues(m.Name, "error").Inc()
			break
		}
		res.Verdict = string(rep.Verdict)
		if h := rep.Headline(); h != nil {
			res.Headline = string(h.Cause) + ": " + h.Title
		}
		if cut := cutShort(rep); len(cut) > 0 {
			code = http.StatusGatewayTimeout
			res.Verdict = "timeout"
			res.Headline = fmt.Sprintf("probe exceeded the scrape timeout (%.1fs): %s did not finish; raise scrape_timeout or lower the module's check timeouts", budget.Seconds(), strings.Join(cut, ", "))
			e.m.probes.WithLabelValues(m.Name, "timeout").Inc()
		} else if rep.Verdict == report.VerdictFailed {
			e.m.probes.WithLabelValues(m.Name, "failure").Inc()
		} else {
			e.m.probes.WithLabelValues(m.Name, "success").Inc()
		}
	}
	res.Code = code
	e.recent.add(res)
	e.log.Info("probe", "module", m.Name, "target", target, "status", code, "verdict", res.Verdict,
		"headline", scrub(res.Headline, m.secrets), "duration_s", fmt.Sprintf("%.3f", took.Seconds()))
	if debug {
		e.writeDebug(w, code, m, target, budget, logBuf.String(), reg, rep, res)
		return
	}
	if code != http.StatusOK {
		http.Error(w, scrub(res.Headline, m.secrets), code)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// admit checks a probe request before anything is sent: module, target,
// allowlist and the scrape timeout.
func (e *exporter) admit(cfg *exporterConfig, r *http.Request, name, target string) (*module, time.Duration, *probeError) {
	bad := func(code int, reason, format string, args ...any) (*module, time.Duration, *probeError) {
		return nil, 0, &probeError{code: code, reason: reason, msg: fmt.Sprintf(format, args...)}
	}
	if name == "" {
		return bad(http.StatusBadRequest, "bad_request", "module parameter is missing (modules: %s)", strings.Join(cfg.Names(), ", "))
	}
	m, ok := cfg.Modules[name]
	if !ok {
		return bad(http.StatusBadRequest, "bad_request", "unknown module %q (modules: %s)", clip(name), strings.Join(cfg.Names(), ", "))
	}
	if target == "" {
		return bad(http.StatusBadRequest, "bad_request", "target parameter is missing (a host name or address; the module's profile names the ports)")
	}
	if err := validTarget(target); err != nil {
		return bad(http.StatusBadRequest, "bad_request", "target %q: %v", clip(target), err)
	}
	if !m.Allow.allows(target) {
		return bad(http.StatusForbidden, "forbidden", "target %q is not in module %s's allowed_targets", clip(target), m.Name)
	}
	budget := m.Timeout
	if h := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); h != "" {
		secs, err := strconv.ParseFloat(h, 64)
		if err != nil || secs <= 0 || secs > 3600 {
			return bad(http.StatusBadRequest, "bad_request", "X-Prometheus-Scrape-Timeout-Seconds %q: not a number of seconds", clip(h))
		}
		t := time.Duration(secs*float64(time.Second)) - scrapeTimeoutOffset
		if t < minProbeBudget {
			return bad(http.StatusBadRequest, "bad_request", "scrape timeout %gs is too short: %s of it is kept for the answer", secs, scrapeTimeoutOffset)
		}
		budget = min(budget, t)
	}
	return m, budget, nil
}

// validTarget is profiles.ValidHost, which also refuses ports and URLs.
func validTarget(t string) error {
	if len(t) > 255 {
		return errors.New("longer than 255 characters")
	}
	return profiles.ValidHost(t)
}

// cutShort names the checks that the probe's deadline ended before they
// finished (the runner reports them canceled): the scrape timeout is too
// short for the module.
func cutShort(rep *report.Report) []string {
	var cut []string
	for _, c := range rep.Checks {
		id, _, _ := strings.Cut(c.ID, "@")
		if c.Class == probe.ClassCanceled && !slices.Contains(cut, id) {
			cut = append(cut, id)
		}
	}
	return cut
}

// logProbe writes what the probe saw into its own log (the debug output):
// one line per check, then the findings and the verdict.
func logProbe(l *slog.Logger, rep *report.Report, err error, took time.Duration) {
	if err != nil {
		l.Error("probe could not run", "err", err.Error())
		return
	}
	for _, c := range rep.Checks {
		attrs := []any{"check", c.ID, "kind", string(c.Kind), "status", string(c.Status), "duration_ms", c.DurationMS}
		if c.Class != probe.ClassNone {
			attrs = append(attrs, "class", string(c.Class))
		}
		if c.Error != "" {
			attrs = append(attrs, "error", c.Error)
		}
		l.Info("check", attrs...)
	}
	for _, f := range rep.Findings {
		l.Info("finding", "cause", string(f.Cause), "severity", string(f.Severity), "title", f.Title, "evidence", strings.Join(f.Evidence, ","))
	}
	l.Info("probe done", "verdict", string(rep.Verdict), "duration_s", fmt.Sprintf("%.3f", took.Seconds()))
}

// notFoundCollector answers a probe whose target does not exist.
func notFoundCollector(took time.Duration) prometheus.Collector {
	return constCollector{
		prometheus.MustNewConstMetric(prometheus.NewDesc("probe_success", "1 when the run found no critical cause (verdict ok or degraded), 0 when it failed.", nil, nil), prometheus.GaugeValue, 0),
		prometheus.MustNewConstMetric(prometheus.NewDesc("probe_duration_seconds", "How long the whole run took, in seconds.", nil, nil), prometheus.GaugeValue, took.Seconds()),
		prometheus.MustNewConstMetric(prometheus.NewDesc("ucprobe_target_not_found", "1 when the target name does not exist in DNS (NXDOMAIN): nothing could be probed.", nil, nil), prometheus.GaugeValue, 1),
	}
}

type constCollector []prometheus.Metric

func (c constCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c {
		ch <- m.Desc()
	}
}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// writeDebug answers ?debug=true like blackbox_exporter: the probe's log,
// the metrics, the report (secrets marshal as "[redacted]") and the module.
func (e *exporter) writeDebug(w http.ResponseWriter, code int, m *module, target string, budget time.Duration, logs string,
	reg *prometheus.Registry, rep *report.Report, res recentResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "Probe of module %s against %s: HTTP status %d, verdict %s, %.3fs (budget %.3fs)\n", m.Name, target, code, res.Verdict, res.DurationS, budget.Seconds())
	if res.Headline != "" {
		fmt.Fprintf(&b, "%s\n", res.Headline)
	}
	fmt.Fprintf(&b, "\nLogs for the probe:\n%s\n", logs)
	fmt.Fprintf(&b, "Metrics that would have been returned:\n")
	if mfs, err := reg.Gather(); err == nil {
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			_ = enc.Encode(mf)
		}
	} else {
		fmt.Fprintf(&b, "(gathering failed: %v)\n", err)
	}
	if rep != nil {
		js, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintf(&b, "\nReport:\n%s\n", js)
	}
	fmt.Fprintf(&b, "\nModule configuration:\n  profile: %s (%s)\n  target_var: %s\n  vars: %v\n  timeout: %s\n  allowed_targets: %s\n  responder: %s\n  credentials: %s\n",
		m.Profile.ID, m.Profile.File, m.TargetVar, m.Vars, m.Timeout, m.Allow, m.Config.Responder, strings.Join(m.CredentialRefs, ", "))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(scrub(b.String(), m.secrets)))
}

// scrub replaces any secret value that reached a text anyway. It is a
// second line of defence: probe.Secret already never prints.
func scrub(s string, secrets []probe.Secret) string {
	for _, sec := range secrets {
		if v := sec.Reveal(); len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// clip bounds what a request echoes back into logs and errors.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// lockedWriter serialises probe goroutines' log writes into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// recentResult is one row of the status page.
type recentResult struct {
	Time      time.Time
	Module    string
	Target    string
	Verdict   string
	Headline  string
	DurationS float64
	Code      int
}

// recentResults keeps the last n results, newest first.
type recentResults struct {
	mu   sync.Mutex
	n    int
	rows []recentResult
}

func newRecentResults(n int) *recentResults { return &recentResults{n: n} }

func (r *recentResults) add(x recentResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append([]recentResult{x}, r.rows...)
	if len(r.rows) > r.n {
		r.rows = r.rows[:r.n]
	}
}

func (r *recentResults) list() []recentResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.rows)
}

var statusPage = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ucprobe exporter</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
.ok{color:#060}.failed,.timeout,.error{color:#b00}.degraded{color:#a60}</style></head>
<body><h1>ucprobe exporter</h1>
<p>Version {{.Version}}. Config {{.Config.File}}, max_concurrent {{.Config.MaxConcurrent}}.
<a href="/metrics">/metrics</a> (the exporter's own health).</p>
<h2>Modules</h2>
<table><tr><th>module</th><th>profile</th><th>target fills</th><th>timeout</th><th>allowed targets</th><th>credentials</th></tr>
{{range .Modules}}<tr><td>{{.Name}}</td><td>{{.Profile.ID}}</td><td>{{.TargetVar}}</td><td>{{.Timeout}}</td><td>{{.Allow}}</td><td>{{range .CredentialRefs}}{{.}} {{end}}</td></tr>
{{end}}</table>
<p>Probe: <code>/probe?module=NAME&amp;target=HOST</code>, add <code>&amp;debug=true</code> for the log and the report.</p>
<h2>Recent probes</h2>
<table><tr><th>time (UTC)</th><th>module</th><th>target</th><th>HTTP</th><th>verdict</th><th>duration</th><th>root cause</th><th></th></tr>
{{range .Recent}}<tr><td>{{.Time.UTC.Format "2006-01-02 15:04:05"}}</td><td>{{.Module}}</td><td>{{.Target}}</td><td>{{.Code}}</td>
<td class="{{.Verdict}}">{{.Verdict}}</td><td>{{printf "%.3fs" .DurationS}}</td><td>{{.Headline}}</td>
<td><a href="/probe?module={{.Module}}&amp;target={{.Target}}&amp;debug=true">debug</a></td></tr>
{{else}}<tr><td colspan="8">none yet</td></tr>{{end}}</table>
</body></html>
`))

func (e *exporter) handleStatus(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	cfg := e.cfg.Load()
	var mods []*module
	for _, n := range cfg.Names() {
		mods = append(mods, cfg.Modules[n])
	}
	recent := e.recent.list()
	for i := range recent {
		recent[i].Headline = scrubAll(recent[i].Headline, cfg)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := statusPage.Execute(w, map[string]any{"Version": version, "Config": cfg, "Modules": mods, "Recent": recent})
	if err != nil {
		e.log.Error("status page", "err", err.Error())
	}
}

func scrubAll(s string, cfg *exporterConfig) string {
	for _, m := range cfg.Modules {
		s = scrub(s, m.secrets)
	}
	return s
}

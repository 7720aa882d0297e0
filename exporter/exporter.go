// Package exporter is the Prometheus side of ucprobe: it runs probes.yaml
// modules against the targets Prometheus names (blackbox_exporter style,
// /probe?module=&target=), under the scrape timeout and the module's
// limits, and answers with metrics. It is safe by default: allowlists are
// required, it listens on loopback, limits survive reloads.
package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/pipeline"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// scrapeTimeoutOffset is kept free of the Prometheus scrape timeout so the
// answer gets back before Prometheus gives up (blackbox_exporter: 0.5 s).
const scrapeTimeoutOffset = 500 * time.Millisecond

// minProbeBudget: a probe with less time than this left would only report
// its own deadline.
const minProbeBudget = 200 * time.Millisecond

// exporter is the HTTP side: config (swapped atomically on reload), its
// own metrics and the recent results for the status page.
type exporter struct {
	path    string
	version string
	cfg     atomic.Pointer[exporterConfig]
	// slots outlive every config: reloads change the limits in place.
	slots   *slots
	log     *slog.Logger
	reg     *prometheus.Registry
	m       exporterMetrics
	recent  *recentResults
	reloadM sync.Mutex
	// run executes a job (pipeline.Run); tests may wrap it.
	run func(context.Context, pipeline.Job) (*report.Report, error)
}

type exporterMetrics struct {
	probes         *prometheus.CounterVec
	probeDuration  *prometheus.HistogramVec
	rejected       *prometheus.CounterVec
	inFlight       prometheus.GaugeFunc
	queued         prometheus.GaugeFunc
	connRefused    prometheus.Counter
	reloadOK       prometheus.Gauge
	reloadOKTime   prometheus.Gauge
	reloadFailures prometheus.Counter
}

func newExporter(path string, cfg *exporterConfig, logger *slog.Logger, version string) *exporter {
	e := &exporter{path: path, log: logger, version: version, reg: prometheus.NewRegistry(), recent: newRecentResults(50), run: pipeline.Run,
		slots: newSlots(cfg.MaxConcurrent, cfg.MaxQueued)}
	e.cfg.Store(cfg)
	f := promauto.With(e.reg)
	e.m = exporterMetrics{
		probes: f.NewCounterVec(prometheus.CounterOpts{Name: "ucprobe_exporter_probes_total",
			Help: "Probes run, by module and result (success, failure, timeout, error)."}, []string{"module", "result"}),
		probeDuration: f.NewHistogramVec(prometheus.HistogramOpts{Name: "ucprobe_exporter_probe_duration_seconds",
			Help: "How long probes took, by module.", Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"module"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{Name: "ucprobe_exporter_requests_rejected_total",
			Help: "Requests refused before probing, by reason (bad_request, forbidden, busy, queue_full, reload_forbidden)."}, []string{"reason"}),
		inFlight: f.NewGaugeFunc(prometheus.GaugeOpts{Name: "ucprobe_exporter_probes_in_flight", Help: "Probes running now."},
			func() float64 { b, _ := e.slots.counts(); return float64(b) }),
		queued: f.NewGaugeFunc(prometheus.GaugeOpts{Name: "ucprobe_exporter_probes_queued", Help: "Probes waiting for a slot (max_concurrent) now."},
			func() float64 { _, q := e.slots.counts(); return float64(q) }),
		connRefused: f.NewCounter(prometheus.CounterOpts{Name: "ucprobe_exporter_connections_refused_total",
			Help: "HTTP connections closed at once because --max-connections were open."}),
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
func (e *exporter) serve(ctx context.Context, ln net.Listener, wc webConfig) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv := newExporterServer(e.handler(), e.log)
	// Probes in flight get the shutdown's grace, then are cut: Shutdown
	// alone cancels no request's context.
	probes, cut := context.WithCancel(context.WithoutCancel(ctx))
	defer cut()
	srv.BaseContext = func(net.Listener) context.Context { return probes }
	errc := make(chan error, 1)
	go func() { errc <- wc.serveHTTP(ln, srv, e.log) }()
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
			if srv.Shutdown(sctx) != nil {
				cut()
				_ = srv.Close()
			}
			<-errc
			return nil
		}
	}
}

// reload loads the config file again; an invalid file keeps the old config.
// Probes in flight keep their module and their slot.
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
	e.slots.setLimits(cfg.MaxConcurrent, cfg.MaxQueued)
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
	mux.HandleFunc("/-/reload", e.handleReload)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", e.handleStatus)
	return mux
}

// handleReload reloads only for the exporter's own host: a reload swaps
// modules and limits, which is the operator's to do (SIGHUP works too).
func (e *exporter) handleReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "use POST to reload the config", http.StatusMethodNotAllowed)
		return
	}
	if why := reloadRefusal(r); why != "" {
		e.m.rejected.WithLabelValues("reload_forbidden").Inc()
		e.log.Warn("reload refused", "from", r.RemoteAddr, "why", why)
		http.Error(w, why, http.StatusForbidden)
		return
	}
	if err := e.reload(); err != nil {
		http.Error(w, "config reload failed, the old config stays: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "config reloaded")
}

// probeError is a request the exporter refuses or cannot finish.
type probeError struct {
	code   int
	reason string // metric label: bad_request, forbidden, busy, queue_full
	msg    string
}

func (e *exporter) refuse(w http.ResponseWriter, perr *probeError, module, target string) {
	e.m.rejected.WithLabelValues(perr.reason).Inc()
	e.log.Warn("probe refused", "status", perr.code, "module", clip(module), "target", clip(target), "err", perr.msg)
	http.Error(w, perr.msg, perr.code)
}

// acquire waits for a probe slot; waiting counts against the scrape's
// own time, and a full queue is refused at once.
func (e *exporter) acquire(ctx context.Context, cfg *exporterConfig, deadline time.Time) *probeError {
	wait, cancel := context.WithDeadline(ctx, deadline.Add(-minProbeBudget))
	defer cancel()
	switch err := e.slots.acquire(wait); {
	case errors.Is(err, errQueueFull):
		return &probeError{http.StatusServiceUnavailable, "queue_full", fmt.Sprintf(
			"too many probes waiting (max_queued %d, max_concurrent %d): retry at the next scrape, or raise max_queued", cfg.MaxQueued, cfg.MaxConcurrent)}
	case err != nil:
		return &probeError{http.StatusServiceUnavailable, "busy", fmt.Sprintf(
			"too many probes in flight (max_concurrent %d): no slot before the scrape timeout; raise max_concurrent or scrape less often", cfg.MaxConcurrent)}
	}
	return nil
}

func (e *exporter) handleProbe(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cfg := e.cfg.Load() // this probe keeps its module across a reload
	q := r.URL.Query()
	debug, _ := strconv.ParseBool(q.Get("debug"))
	name, target := q.Get("module"), q.Get("target")
	m, budget, perr := e.admit(cfg, r, name, target)
	if perr != nil {
		e.refuse(w, perr, name, target)
		return
	}
	target = normHost(target)
	deadline := start.Add(budget)
	if perr := e.acquire(r.Context(), cfg, deadline); perr != nil {
		e.refuse(w, perr, m.Name, target)
		return
	}
	defer e.slots.release()

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
	rep, err := e.run(r.Context(), pipeline.Job{Profile: m.Profile, Vars: vars, Config: &pcfg, Timeout: budget, Version: e.version})
	if rep != nil {
		rep = report.Sanitize(rep)
		m.redactVars(rep.Variables)
	}
	took := time.Since(start)
	if pcfg.Logger != nil {
		logProbe(pcfg.Logger, rep, err, took)
	}
	e.m.probeDuration.WithLabelValues(m.Name).Observe(took.Seconds())
	if e.log.Enabled(r.Context(), slog.LevelDebug) && logBuf.Len() > 0 {
		e.log.Debug("probe log", "module", m.Name, "target", target, "log", scrub(logBuf.String(), m.secrets))
	}
	res := recentResult{Time: start, Module: m.Name, Target: target, DurationS: took.Seconds()}
	gather, code := e.judge(m, rep, err, took, budget, &res)
	res.Code = code
	// Scrubbed with this module's secrets now: after a reload the status
	// page no longer knows them.
	res.Headline = scrub(res.Headline, m.secrets)
	e.recent.add(res)
	e.log.Info("probe", "module", m.Name, "target", target, "status", code, "verdict", res.Verdict,
		"headline", res.Headline, "duration_s", fmt.Sprintf("%.3f", took.Seconds()))
	if debug {
		e.writeDebug(w, code, m, target, budget, logBuf.String(), gather, rep, res)
		return
	}
	if code != http.StatusOK {
		http.Error(w, scrub(res.Headline, m.secrets), code)
		return
	}
	promhttp.HandlerFor(gather, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// judge turns a probe's outcome into the metrics to answer with, the HTTP
// status and the status page's row.
func (e *exporter) judge(m *module, rep *report.Report, err error, took, budget time.Duration, res *recentResult) (prometheus.Gatherer, int) {
	reg := prometheus.NewRegistry()
	switch {
	case errors.Is(err, pipeline.ErrNoSuchHost):
		// The target does not exist: a monitoring answer (probe failed),
		// not a refusal; the scrape itself succeeds.
		reg.MustRegister(notFoundCollector(took))
		res.Verdict, res.Headline = string(report.VerdictFailed), "target does not resolve (NXDOMAIN)"
		e.m.probes.WithLabelValues(m.Name, "failure").Inc()
		return reg, http.StatusOK
	case err != nil:
		res.Verdict, res.Headline = "error", err.Error()
		e.m.probes.WithLabelValues(m.Name, "error").Inc()
		return reg, http.StatusBadRequest
	}
	if err := report.RegisterReport(reg, rep, report.MetricsOptions{}); err != nil {
		res.Verdict, res.Headline = "error", err.Error()
		e.m.probes.WithLabelValues(m.Name, "error").Inc()
		return reg, http.StatusInternalServerError
	}
	res.Verdict = string(rep.Verdict)
	if h := rep.Headline(); h != nil {
		res.Headline = string(h.Cause) + ": " + h.Title
	}
	if cut := cutShort(rep); len(cut) > 0 {
		// blackbox_exporter's answer: the scrape succeeds, the probe
		// failed, and a metric says why (the series do not vanish).
		res.Verdict = "timeout"
		res.Headline = fmt.Sprintf("probe exceeded the scrape timeout (%.1fs): %s did not finish; raise scrape_timeout or lower the module's check timeouts", budget.Seconds(), strings.Join(cut, ", "))
		e.m.probes.WithLabelValues(m.Name, "timeout").Inc()
		reg.MustRegister(cutShortCollector(cut))
		return failedGatherer{reg}, http.StatusOK
	}
	if rep.Verdict == report.VerdictFailed {
		e.m.probes.WithLabelValues(m.Name, "failure").Inc()
	} else {
		e.m.probes.WithLabelValues(m.Name, "success").Inc()
	}
	return reg, http.StatusOK
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
		return bad(http.StatusForbidden, "forbidden", "target %q is not in module %s's allowed_targets (add it there in probes.yaml and reload)", clip(target), m.Name)
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

// cutShort names the checks the probe's deadline ended before they
// finished: the evidence of the diagnosis' own cut-short finding (one
// judgement: the same rule names it in every report), by check.
func cutShort(rep *report.Report) []string {
	var cut []string
	for _, f := range rep.Findings {
		if f.Cause != cause.CutShort {
			continue
		}
		for _, id := range f.Evidence {
			if c := rep.Check(id); c != nil && !slices.Contains(cut, c.BaseID()) {
				cut = append(cut, c.BaseID())
			}
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

// descCutShort is the reason metric of a probe the scrape timeout ended.
var descCutShort = sync.OnceValue(func() *prometheus.Desc {
	return prometheus.NewDesc("ucprobe_probe_cut_short",
		"1 for each check the scrape timeout cut short: the probe did not finish, so probe_success is 0; raise scrape_timeout or lower the module's check timeouts.",
		[]string{"check"}, nil)
})

func cutShortCollector(cut []string) prometheus.Collector {
	c := make(constCollector, 0, len(cut))
	for _, id := range cut {
		c = append(c, prometheus.MustNewConstMetric(descCutShort(), prometheus.GaugeValue, 1, id))
	}
	return c
}

// failedGatherer answers probe_success 0 whatever the verdict of the part
// that finished: an unfinished probe is not a success.
type failedGatherer struct{ prometheus.Gatherer }

func (g failedGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := g.Gatherer.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "probe_success" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetGauge() != nil {
				m.GetGauge().Value = proto.Float64(0)
			}
		}
	}
	return mfs, err
}

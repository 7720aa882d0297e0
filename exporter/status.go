package exporter

import (
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ucprobe/ucprobe/report"
)

// writeDebug answers ?debug=true like blackbox_exporter: the probe's log,
// the metrics, the report (secrets marshal as "[redacted]") and the module.
func (e *exporter) writeDebug(w http.ResponseWriter, code int, m *module, target string, budget time.Duration, logs string,
	reg prometheus.Gatherer, rep *report.Report, res recentResult) {
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
		fmt.Fprintf(&b, "\nReport:\n")
		_ = report.WriteJSON(&b, rep)
	}
	vars := maps.Clone(m.Vars)
	m.redactVars(vars)
	fmt.Fprintf(&b, "\nModule configuration:\n  profile: %s (%s)\n  target_var: %s\n  vars: %v\n  timeout: %s\n  allowed_targets: %s\n  responder: %s\n  credentials: %s\n",
		m.Profile.ID, m.Profile.File, m.TargetVar, vars, m.Timeout, m.Allow, m.Config.Responder, strings.Join(m.CredentialRefs, ", "))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(scrub(b.String(), m.secrets)))
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

// statusPage is parsed on first use: a command other than the exporter
// pays nothing for it at start-up.
var statusPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("status").Parse(`<!DOCTYPE html>
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
})

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
	err := statusPage().Execute(w, map[string]any{"Version": e.version, "Config": cfg, "Modules": mods, "Recent": recent})
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

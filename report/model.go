// Package report judges evidence and renders it: the diagnosis rules turn
// checks and environment into findings with cause ids, and the renderers
// write text, JSON and metrics. Nothing here sends a packet.
package report

import (
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// Schema is the JSON report's schema id.
const Schema = "ucprobe/report/v1"

// Verdict is the whole run's outcome.
type Verdict string

// Verdicts.
const (
	VerdictOK       Verdict = "ok"
	VerdictDegraded Verdict = "degraded"
	VerdictFailed   Verdict = "failed"
)

// Severity of a finding.
type Severity string

// Severities.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Finding is one named cause with the checks that show it and what to do.
type Finding struct {
	Cause    Cause    `json:"cause"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Detail   string   `json:"detail"`
	// Evidence are the ids of the checks that show the cause.
	Evidence []string `json:"evidence"`
	Remedy   string   `json:"remedy"`
	// Quote is the vendor's own words behind the remedy.
	Quote string   `json:"quote,omitempty"`
	Refs  []string `json:"refs"`
	// Explains: a rule lists the symptom causes its finding accounts for
	// when their evidence lies within its own; after the diagnosis folded
	// them, it holds the causes actually folded under this finding, and
	// Folded their titles.
	Explains []Cause  `json:"explains,omitempty"`
	Folded   []Folded `json:"folded,omitempty"`
	// Facts are key figures for scripts (e.g. "blocked": "31000-33000").
	Facts map[string]string `json:"facts,omitempty"`
}

// Folded is a symptom finding merged into the root cause that explains it.
type Folded struct {
	Cause Cause  `json:"cause"`
	Title string `json:"title"`
}

// Report is the whole result of a run: the JSON contract ucprobe/report/v1.
type Report struct {
	Schema  string `json:"schema"`
	Version string `json:"ucprobe_version"`
	Profile string `json:"profile"`
	Product string `json:"product,omitempty"`
	// ProfileSource cites the vendor document the profile's checks stand
	// for; ProfileDigest names the exact profile text that ran (sha256,
	// 12 hex digits), so a sign-off record says which version was used.
	ProfileSource string            `json:"profile_source,omitempty"`
	ProfileDigest string            `json:"profile_digest,omitempty"`
	Variables     map[string]string `json:"variables,omitempty"`
	// Labels are the run's --label pairs (site, operator, ...).
	Labels      map[string]string `json:"labels,omitempty"`
	Started     time.Time         `json:"started"`
	DurationMS  float64           `json:"duration_ms"`
	Verdict     Verdict           `json:"verdict"`
	Checks      []probe.Result    `json:"checks"`
	Findings    []Finding         `json:"findings"`
	Environment probe.Environment `json:"environment"`
	// Baseline compares this run with a saved report (run --baseline).
	Baseline *Diff `json:"baseline,omitempty"`
	// Budget is the run's time budget: its deadline, the least deadline
	// a diagnosis needs, and whether the run was interrupted.
	Budget *Budget `json:"budget,omitempty"`
	// Path is what the run's round trips (TCP handshakes, STUN) say about
	// the path, with no media stream.
	Path *probe.PathRTT `json:"path,omitempty"`
}

// Budget is the run's time budget in the report.
type Budget struct {
	DeadlineMS    float64 `json:"deadline_ms,omitempty"`
	MinDeadlineMS float64 `json:"min_deadline_ms"`
	Interrupted   bool    `json:"interrupted,omitempty"`
}

// NothingRan: every check that was to run was cut off before it could
// conclude (exit 3: nothing was judged).
func (r *Report) NothingRan() bool {
	cut, ran := 0, 0
	for _, c := range r.Checks {
		switch {
		case c.Kind == probe.KindDNS || c.Status == probe.StatusSkip && c.Class != probe.ClassCanceled:
		case c.Status == probe.StatusSkip: // cut before it found anything (cut-short's evidence)
			cut++
		default:
			ran++
		}
	}
	return cut > 0 && ran == 0
}

// VerdictOf derives the verdict from the findings: any critical finding
// fails the run, warnings degrade it.
func VerdictOf(fs []Finding) Verdict {
	v := VerdictOK
	for _, f := range fs {
		switch f.Severity {
		case SeverityCritical:
			return VerdictFailed
		case SeverityWarning:
			v = VerdictDegraded
		}
	}
	return v
}

// Exit codes (Nagios convention).
const (
	ExitOK       = 0
	ExitDegraded = 1
	ExitFailed   = 2
	ExitUnknown  = 3 // bad input, config or internal error: nothing was judged
)

// ExitCode is the report's exit code: unknown (3) when nothing was judged
// (NothingRan: the report says why), else its verdict's. run, demo and
// render all exit with it.
func (r *Report) ExitCode() int {
	if r.NothingRan() {
		return ExitUnknown
	}
	return r.Verdict.ExitCode()
}

// ExitCode maps a verdict to the process exit code.
func (v Verdict) ExitCode() int {
	switch v {
	case VerdictOK:
		return ExitOK
	case VerdictDegraded:
		return ExitDegraded
	case VerdictFailed:
		return ExitFailed
	}
	return ExitUnknown
}

// Headline is the root cause a helpdesk reads out first, or nil.
func (r *Report) Headline() *Finding {
	if len(r.Findings) == 0 {
		return nil
	}
	return &r.Findings[0]
}

// Check returns the check with the given id, or nil.
func (r *Report) Check(id string) *probe.Result {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

//go:build linux

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// These tests run the built ucprobe itself in the client namespace, once per
// lab scenario, the way a helpdesk or field tech would, and assert the
// diagnosis end to end: the verdict and exit code, the headline cause, the
// exact set of critical and warning causes (nothing missing, nothing
// spurious) and the key evidence of each fault. lab_test.go proves with plain
// tools that each fault is there; this file proves ucprobe names it.
//
// TURN credentials come from the scenario's scenario.env and reach ucprobe
// through UCPROBE_TURN_USER/UCPROBE_TURN_PASS in its environment, never on
// its command line.

// ucReport is the part of the ucprobe/report/v1 JSON report the scenarios assert.
type ucReport struct {
	Schema  string `json:"schema"`
	Profile string `json:"profile"`
	Verdict string `json:"verdict"`
	// DurationMS is the run's own measure of its time.
	DurationMS float64     `json:"duration_ms"`
	Checks     []ucCheck   `json:"checks"`
	Findings   []ucFinding `json:"findings"`
	Env        struct {
		VPN json.RawMessage `json:"vpn"`
		NAT *ucNAT          `json:"nat"`
	} `json:"environment"`
	// Baseline is the comparison with a saved report (run --baseline).
	Baseline *struct {
		Headline string `json:"headline"`
		Verdict  string `json:"verdict"`
		Changes  []struct {
			Kind, Subject, Trend, Summary string
		} `json:"changes"`
	} `json:"baseline"`
}

type ucNAT struct {
	Mapping   string `json:"mapping"`
	Filtering string `json:"filtering"`
}

type ucCandidate struct {
	Type    string `json:"type"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

type ucCheck struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	Host       string `json:"host"`
	Address    string `json:"address"`
	Transport  string `json:"transport"`
	Status     string `json:"status"`
	ErrorClass string `json:"error_class"`
	Error      string `json:"error"`
	Details    struct {
		Skipped  string `json:"skipped"`
		UDPRange *struct {
			Ranges    string `json:"ranges"`
			Responder string `json:"responder"`
			Open      int    `json:"open"`
			Filtered  int    `json:"filtered"`
			SubRanges []struct {
				Range struct {
					First int `json:"first"`
					Last  int `json:"last"`
				} `json:"range"`
				State     string `json:"state"`
				Direction string `json:"direction"`
			} `json:"sub_ranges"`
		} `json:"udp_range"`
		ICE *struct {
			Mode        string `json:"mode"`
			State       string `json:"state"`
			SelectedVia string `json:"selected_via"`
			Selected    *struct {
				Local  ucCandidate `json:"local"`
				Remote ucCandidate `json:"remote"`
				State  string      `json:"state"`
			} `json:"selected"`
			Media *struct {
				Sent     int     `json:"sent"`
				Received int     `json:"received"`
				LossPct  float64 `json:"loss_pct"`
			} `json:"media"`
		} `json:"ice"`
		TLS *struct {
			Issuer string `json:"issuer"`
		} `json:"tls"`
		STUN *struct {
			NAT *ucNAT `json:"nat"`
		} `json:"stun"`
	} `json:"details"`
}

type ucFinding struct {
	Cause    string         `json:"cause"`
	Severity string         `json:"severity"`
	Title    string         `json:"title"`
	Detail   string         `json:"detail"`
	Evidence []string       `json:"evidence"`
	Explains []string       `json:"explains"`
	Facts    map[string]any `json:"facts"`
}

func (r *ucReport) check(id string) *ucCheck {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

// finding is the first finding with cause.
func (r *ucReport) finding(cause string) *ucFinding {
	for i := range r.Findings {
		if r.Findings[i].Cause == cause {
			return &r.Findings[i]
		}
	}
	return nil
}

func (r *ucReport) causes(severity string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == severity && !slices.Contains(out, f.Cause) {
			out = append(out, f.Cause)
		}
	}
	sort.Strings(out)
	return out
}

// headline is the first finding's cause, passing over coverage notes
// (untested), which state what was not tested and head nothing.
func (r *ucReport) headline() string {
	for _, f := range r.Findings {
		if f.Cause != "untested" {
			return f.Cause
		}
	}
	return "-"
}

func (f *ucFinding) fact(k string) string {
	if f == nil || f.Facts == nil {
		return ""
	}
	switch v := f.Facts[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (f *ucFinding) explains() []string {
	if f == nil {
		return nil
	}
	return f.Explains
}

// text is everything a person reads in the finding (for "names X" assertions).
func (f *ucFinding) text() string {
	if f == nil {
		return ""
	}
	b, _ := json.Marshal(f.Facts)
	return f.Title + "\n" + f.Detail + "\n" + string(b)
}

func wantStatus(t *testing.T, r *ucReport, id, status string) {
	t.Helper()
	c := r.check(id)
	switch {
	case c == nil:
		t.Errorf("no check %s (checks: %s)", id, checkIDs(r))
	case c.Status != status:
		t.Errorf("check %s: %s %s %s (%s), want %s", id, c.Status, c.ErrorClass, c.Error, c.Details.Skipped, status)
	}
}

func wantFail(t *testing.T, r *ucReport, id, class string) {
	t.Helper()
	c := r.check(id)
	switch {
	case c == nil:
		t.Errorf("no check %s (checks: %s)", id, checkIDs(r))
	case c.Status != "fail" || c.ErrorClass != class:
		t.Errorf("check %s: %s %q (%s), want fail %s", id, c.Status, c.ErrorClass, c.Error, class)
	}
}

func checkIDs(r *ucReport) string {
	var ids []string
	for _, c := range r.Checks {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, " ")
}

// wantEvidence: the finding exists and cites these check ids (among others).
func wantEvidence(t *testing.T, f *ucFinding, ids ...string) {
	t.Helper()
	if f == nil {
		return // the cause assertions already report a missing finding
	}
	for _, id := range ids {
		if !slices.Contains(f.Evidence, id) {
			t.Errorf("%s: evidence %v lacks %s", f.Cause, f.Evidence, id)
		}
	}
}

// wantFact: the finding's fact k contains want (lists are comma-separated).
func wantFact(t *testing.T, f *ucFinding, k, want string) {
	t.Helper()
	if f == nil {
		return
	}
	got := f.fact(k)
	if got != want && !slices.Contains(strings.Split(got, ","), want) {
		t.Errorf("%s: fact %s = %q, want %q (facts %v)", f.Cause, k, got, want, f.Facts)
	}
}

func wantICEVia(t *testing.T, r *ucReport, id, via string) {
	t.Helper()
	c := r.check(id)
	if c == nil {
		t.Errorf("no check %s", id)
		return
	}
	if c.Details.ICE == nil || c.Details.ICE.SelectedVia != via {
		got := "no ICE details"
		if c.Details.ICE != nil {
			got = fmt.Sprintf("state %s, selected %q", c.Details.ICE.State, c.Details.ICE.SelectedVia)
		}
		t.Errorf("ICE %s: %s (%s %s %s), want connected via %s", id, got, c.Status, c.ErrorClass, c.Error, via)
	}
}

// wantSubRange: the sweep reports first-last as one sub-range in state
// (and direction, when given).
func wantSubRange(t *testing.T, r *ucReport, id string, first, last int, state, direction string) {
	t.Helper()
	c := r.check(id)
	if c == nil {
		t.Errorf("no check %s", id)
		return
	}
	u := c.Details.UDPRange
	if u == nil {
		t.Errorf("sweep %s: no udp_range details (%s %s %s%s), want %d-%d %s %s", id, c.Status, c.ErrorClass, c.Error,
			c.Details.Skipped, first, last, state, direction)
		return
	}
	var got []string
	for _, s := range u.SubRanges {
		if s.Range.First == first && s.Range.Last == last && s.State == state && (direction == "" || s.Direction == direction) {
			return
		}
		got = append(got, fmt.Sprintf("%d-%d %s %s", s.Range.First, s.Range.Last, s.State, s.Direction))
	}
	t.Errorf("sweep %s: sub-ranges %v, want %d-%d %s %s", id, got, first, last, state, direction)
}

// runUcprobe runs `ucprobe run ARGS --format json` in the client namespace
// with the scenario's TURN credentials in its environment (never on its
// command line), and decodes the report. It fails t on anything that is not
// a judged report. It is safe in parallel subtests.
// slack, when given, is extra time past the deadline a case is allowed (a
// known overrun, named where the case is declared).
func runUcprobe(t *testing.T, args []string, slack ...time.Duration) (*ucReport, int, time.Duration) {
	t.Helper()
	user, pass := TurnCreds(t)
	env := []string{"UCPROBE_TURN_USER=" + user, "UCPROBE_TURN_PASS=" + pass,
		"UCPROBE_TURN_SECRET=", "UCPROBE_TOKEN=", "NO_COLOR="}
	// ucprobe must keep its --timeout: 3 s more for start, report and exit
	// on a loaded machine, then the run is killed and t fails.
	limit := runTimeout(args)
	ctx, cancel := context.WithTimeout(context.Background(), limit+3*time.Second)
	defer cancel()
	start := time.Now()
	stdout, stderr, code := ExecEnvContext(t, ctx, "client", env,
		append(append([]string{UcprobeBin(t), "run"}, args...), "--format", "json")...)
	took := time.Since(start) // (past limit+3 s, ExecContext has failed t: "timed out")
	for _, secret := range []string{pass, Env(t, "turn.env")["UCPROBE_TURN_PASS"]} {
		if secret != "" && (strings.Contains(stdout, secret) || strings.Contains(stderr, secret)) {
			t.Errorf("the TURN password appears in ucprobe's output")
		}
	}
	var r ucReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("ucprobe exit %d, output is not a JSON report: %v\n%s\n%s", code, err, stdout, stderr)
	}
	if r.Schema != "ucprobe/report/v1" {
		t.Errorf("schema %q, want ucprobe/report/v1", r.Schema)
	}
	wantCode := map[string]int{"ok": 0, "degraded": 1, "failed": 2}[r.Verdict]
	if _, known := map[string]bool{"ok": true, "degraded": true, "failed": true}[r.Verdict]; !known || code != wantCode {
		t.Errorf("verdict %q with exit code %d (want 0 ok, 1 degraded, 2 failed)", r.Verdict, code)
	}
	// The run's own clock: a run ends within its deadline (the report's
	// duration covers the checks and the diagnosis).
	extra := 100 * time.Millisecond
	for _, s := range slack {
		extra += s
	}
	if d := time.Duration(r.DurationMS * float64(time.Millisecond)); d > limit+extra {
		t.Errorf("run took %s by its own report, past its deadline %s + %s", d.Round(time.Millisecond), limit, extra)
	}
	// A run whose checks were all cut short judged nothing: it must not
	// pass for "ok".
	canceled, ran := 0, 0
	for _, c := range r.Checks {
		if c.Kind == "dns" || (c.Status == "skip" && c.ErrorClass != "canceled") {
			continue
		}
		ran++
		if c.ErrorClass == "canceled" {
			canceled++
		}
	}
	if ran > 0 && canceled == ran && r.Verdict == "ok" {
		t.Errorf("verdict ok although all %d checks were canceled by the deadline", ran)
	}
	for _, f := range r.Findings {
		for _, id := range f.Evidence {
			if r.check(id) == nil {
				t.Errorf("finding %s cites evidence %q, which is no check of the report", f.Cause, id)
			}
		}
	}
	return &r, code, took
}

// runTimeout is the --timeout of args (ucprobe's default 10 s without one).
func runTimeout(args []string) time.Duration {
	for i, a := range args {
		if (a == "--timeout" || a == "-t") && i+1 < len(args) {
			if d, err := time.ParseDuration(args[i+1]); err == nil {
				return d
			}
		}
	}
	return 10 * time.Second
}

func summary(r *ucReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict %s\n", r.Verdict)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %-8s %-24s evidence %v explains %v: %s\n", f.Severity, f.Cause, f.Evidence, f.Explains, f.Title)
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "    %-4s %-28s %s %s %s\n", c.Status, c.ID, c.ErrorClass, c.Error, c.Details.Skipped)
	}
	return b.String()
}

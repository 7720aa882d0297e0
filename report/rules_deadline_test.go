package report

import (
	"slices"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

func TestRuleCutShort(t *testing.T) {
	canceled := func(id string, optional bool) probe.Result {
		return probe.Result{ID: id, Kind: probe.KindTCP, Status: probe.StatusSkip, Class: probe.ClassCanceled, Optional: optional,
			Error: "the run ended before this check finished"}
	}
	dns := probe.Result{ID: "dns:h", Kind: probe.KindDNS, Status: probe.StatusPass}
	cases := []struct {
		name   string
		checks []probe.Result
		run    probe.RunInfo
		want   []Cause
		title  string
	}{
		{"a deadline below the minimum names it", []probe.Result{dns, canceled("a", false)},
			probe.RunInfo{Deadline: 200 * time.Millisecond, MinDeadline: 3 * time.Second}, []Cause{cause.CutShort},
			"Nothing was tested: every check was cut short by the deadline: --timeout 200ms is below the 3s a diagnosis needs"},
		{"Ctrl-C is interrupted, not the deadline", []probe.Result{dns, tlsOK, canceled("a", false)},
			probe.RunInfo{Deadline: 10 * time.Second, MinDeadline: 3 * time.Second, Interrupted: true}, []Cause{cause.CutShort},
			"1 check was cut short because the run was interrupted"},
		{"everything cut short is not ok", []probe.Result{dns, canceled("a", false), canceled("b", false)}, probe.RunInfo{}, []Cause{cause.CutShort}, "Nothing was tested: every check was cut short by the deadline"},
		{"one of two cut short", []probe.Result{dns, tlsOK, canceled("b", false)}, probe.RunInfo{}, []Cause{cause.CutShort}, "1 check was cut short by the deadline"},
		{"an optional check cut short is no finding", []probe.Result{tlsOK, canceled("b", true)}, probe.RunInfo{}, nil, ""},
		{"a skip for want of a responder is not a deadline", []probe.Result{tlsOK, {ID: "r", Kind: probe.KindUDPRange, Status: probe.StatusSkip, Error: "needs a ucprobe responder at the far end", Details: probe.Details{SkipReason: probe.SkipNoResponder}}}, probe.RunInfo{}, []Cause{cause.Untested}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks, Run: tc.run}, nil)
			if got := causesOf(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v", got, tc.want)
			}
			if tc.title != "" && (fs[0].Title != tc.title || fs[0].Severity != SeverityWarning) {
				t.Errorf("headline %q (%s), want %q (warning)", fs[0].Title, fs[0].Severity, tc.title)
			}
		})
	}
	if v := VerdictOf(Diagnose(Input{Checks: []probe.Result{canceled("a", false)}}, nil)); v == VerdictOK {
		t.Errorf("verdict %s for a run where nothing finished", v)
	}
}

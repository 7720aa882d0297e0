package report

import (
	"slices"
	"testing"

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
		want   []Cause
		title  string
	}{
		{"everything cut short is not ok", []probe.Result{dns, canceled("a", false), canceled("b", false)}, []Cause{CauseCutShort}, "Nothing was tested: every check was cut short by the deadline"},
		{"one of two cut short", []probe.Result{dns, tlsOK, canceled("b", false)}, []Cause{CauseCutShort}, "1 check was cut short by the deadline"},
		{"an optional check cut short is no finding", []probe.Result{tlsOK, canceled("b", true)}, nil, ""},
		{"a skip for want of a responder is not a deadline", []probe.Result{tlsOK, {ID: "r", Kind: probe.KindUDPRange, Status: probe.StatusSkip, Error: "needs a ucprobe responder at the far end"}}, []Cause{CauseUntested}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks}, nil)
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

package report

import (
	"slices"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

func TestRuleCutShort(t *testing.T) {
	cut := check("a", probe.KindTCP).skipped(probe.ClassCanceled).err("the run ended before this check finished")
	a, b := cut.r(), cut.id("b").r()
	dns := check("dns:h", probe.KindDNS).r()
	cases := []struct {
		name   string
		checks []probe.Result
		run    probe.RunInfo
		want   []Cause
		title  string
	}{
		{"a deadline below the minimum names it", []probe.Result{dns, a},
			probe.RunInfo{Deadline: 200 * time.Millisecond, MinDeadline: 3 * time.Second}, []Cause{cause.CutShort},
			"Nothing was tested: every check was cut short by the deadline: --timeout 200ms is below the 3s a diagnosis needs"},
		{"Ctrl-C is interrupted, not the deadline", []probe.Result{dns, tlsOK, a},
			probe.RunInfo{Deadline: 10 * time.Second, MinDeadline: 3 * time.Second, Interrupted: true}, []Cause{cause.CutShort},
			"1 check was cut short because the run was interrupted"},
		{"everything cut short is not ok", []probe.Result{dns, a, b}, probe.RunInfo{}, []Cause{cause.CutShort}, "Nothing was tested: every check was cut short by the deadline"},
		{"one of two cut short", []probe.Result{dns, tlsOK, b}, probe.RunInfo{}, []Cause{cause.CutShort}, "1 check was cut short by the deadline"},
		{"an optional check cut short is no finding", []probe.Result{tlsOK, cut.id("b").optional().r()}, probe.RunInfo{}, nil, ""},
		{"a skip for want of a responder is not a deadline", []probe.Result{tlsOK, check("r", probe.KindUDPRange).noResponder().r()}, probe.RunInfo{}, []Cause{cause.Untested}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks, Run: tc.run}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v", got, tc.want)
			}
			if tc.title != "" && (fs[0].Title != tc.title || fs[0].Severity != SeverityWarning) {
				t.Errorf("headline %q (%s), want %q (warning)", fs[0].Title, fs[0].Severity, tc.title)
			}
		})
	}
	if v := VerdictOf(Diagnose(Input{Checks: []probe.Result{a}}, nil)); v == VerdictOK {
		t.Errorf("verdict %s for a run where nothing finished", v)
	}
}

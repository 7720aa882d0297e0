package report

import (
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

// TestNothingRan: exit 3 ("nothing was judged") only when every check that
// was to run was cut before it found anything; a partial result the
// deadline cut after an answer (warn, canceled) was judged, as cut-short
// counts it.
func TestNothingRan(t *testing.T) {
	cut := check("turn", probe.KindTURN).skipped(probe.ClassCanceled).r()
	partial := check("ice", probe.KindICE).warned(probe.ClassCanceled).r()
	unset := check("sip", probe.KindSIP).skipped("").r()
	for _, tc := range []struct {
		name   string
		checks []probe.Result
		want   bool
	}{
		{"all cut", []probe.Result{cut, unset}, true},
		{"a partial result beside the cut", []probe.Result{cut, partial}, false},
		{"only partial results", []probe.Result{partial}, false},
		{"nothing to run", []probe.Result{unset}, false},
	} {
		r := &Report{Checks: tc.checks, Verdict: VerdictOK}
		if got := r.NothingRan(); got != tc.want {
			t.Errorf("%s: NothingRan = %v, want %v", tc.name, got, tc.want)
		}
		if want := map[bool]int{true: ExitUnknown, false: ExitOK}[tc.want]; r.ExitCode() != want {
			t.Errorf("%s: ExitCode = %d, want %d", tc.name, r.ExitCode(), want)
		}
	}
}

package report

import (
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// A failed check no rule explains still says which check and what to try.
func TestCheckFailedRemedy(t *testing.T) {
	tests := []struct {
		class probe.ErrorClass
		want  string
	}{
		{probe.ClassRefused, "nothing listens"},
		{probe.ClassTimeout, "drops it"},
		{probe.ClassProtocol, "not as that kind of server would"},
		{probe.ClassAuth, "refused the credentials"},
		{"", "--debug"},
	}
	for _, tt := range tests {
		c := check("sip-5060", probe.KindSIP).target("pbx.example:5060").failed(tt.class).r()
		fs := unexplained([]probe.Result{c}, nil)
		if len(fs) != 1 || fs[0].Cause != cause.CheckFailed {
			t.Fatalf("%s: findings %v", tt.class, fs)
		}
		r := fs[0].Remedy
		if !strings.Contains(r, tt.want) || !strings.Contains(r, "sip-5060") || strings.Contains(r, "See the check's error") {
			t.Errorf("%s: remedy %q, want the check's id and %q", tt.class, r, tt.want)
		}
	}
}

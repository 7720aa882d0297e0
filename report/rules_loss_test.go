package report

import (
	"slices"
	"testing"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/probe"
)

// STUN silent while TURN over UDP on the same host and port answered: the
// path carries UDP there, the silence is loss. Both silent: not this rule.
func TestLossOnService(t *testing.T) {
	tests := []struct {
		name   string
		checks []probe.Result
		want   []Cause
		not    []Cause
	}{
		{"stun lost, turn answered", []probe.Result{stunSilent, turnUDPOK}, []Cause{cause.PacketLoss}, []Cause{cause.CheckFailed, cause.UDPBlocked, cause.UDPServiceBlocked}},
		{"both silent", []probe.Result{stunSilent, turnUDPSil}, nil, []Cause{cause.PacketLoss}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tt.checks}, nil)
			got := causes(fs)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("causes %v lack %s", got, w)
				}
			}
			for _, n := range tt.not {
				if slices.Contains(got, n) {
					t.Errorf("causes %v include %s", got, n)
				}
			}
			if len(tt.want) > 0 && fs[0].Severity != SeverityWarning {
				t.Errorf("loss is a quality finding (warning), got %s", fs[0].Severity)
			}
		})
	}
}

package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// The relay's view of the NAT alone names symmetric-nat, as a warning
// with the observations and the remedy that TURN is required; what the
// relay could not determine names nothing.
func TestSymmetricNATFromTURNRelay(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks []probe.Result
		want   []Cause
	}{
		{"relay saw another port", []probe.Result{tlsOK, stunOK, turnUDPBase.relayNAT(probe.NATAddressAndPortDependent, "").r()}, []Cause{cause.SymmetricNAT}},
		{"another address only", []probe.Result{tlsOK, stunOK, turnUDPBase.relayNAT(probe.NATDestinationDependent, "port not tested").r()}, []Cause{cause.SymmetricNAT}},
		{"relay saw the same mapping", []probe.Result{tlsOK, stunOK, turnUDPBase.relayNAT(probe.NATPortIndependent, "address not tested").r()}, nil},
		{"not determined", []probe.Result{tlsOK, stunOK, turnUDPBase.relayNAT(probe.NATUnknown, "the TURN server refused a permission").r()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v", got, tc.want)
			}
			if len(fs) == 0 {
				return
			}
			f := fs[0]
			if f.Severity != SeverityWarning || !slices.Equal(f.Evidence, []string{"turn-udp"}) ||
				!strings.Contains(f.Detail, "198.51.100.7:52001 saw 203.0.113.1:5041 (turn-relay)") ||
				!strings.Contains(f.Remedy, "TURN is required") || f.Facts["method"] != "turn-relay" {
				t.Fatalf("finding %+v", f)
			}
		})
	}
}

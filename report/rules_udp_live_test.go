package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// Live sampling in helpdesk mode: a blocked sub-range is named from the
// live judgement (never from scattered silence); silent and scattered
// samples are untested, with what a responder would add.
func TestLiveRangeJudgement(t *testing.T) {
	blk := probe.UDPSubRange{Range: probe.PortRange{First: 31000, Last: 33000}, State: probe.PortFiltered, Ports: 40}
	for _, tc := range []struct {
		name string
		c    probe.Result
		want []Cause
		text string
	}{
		{"blocked sub-range", check("media-range", probe.KindUDPRange).atTURN().failed(probe.ClassTimeout).sampled(probe.LiveBlocked, 50, blk).r(), []Cause{cause.UDPPortRangeBlocked}, "31000-33000"},
		{"scattered (rate limit)", check("media-range", probe.KindUDPRange).atTURN().warned("").sampled(probe.LiveScattered, 30).r(), []Cause{cause.Untested}, "A responder"},
		{"silent everywhere", check("media-range", probe.KindUDPRange).atTURN().warned("").sampled(probe.LiveSilent, 0).r(), []Cause{cause.Untested}, "sampled live"},
		{"reached everywhere", check("media-range", probe.KindUDPRange).atTURN().sampled(probe.LiveReached, 90).r(), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: []probe.Result{tlsOK, tc.c}}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v: %+v", got, tc.want, fs)
			}
			if len(fs) > 0 && (!strings.Contains(fs[0].Detail+fs[0].Title, tc.text) || strings.Contains(fs[0].Title, "30150")) {
				t.Fatalf("finding %+v", fs[0])
			}
		})
	}
}

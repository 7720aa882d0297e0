package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

func liveRange(status probe.Status, v probe.LiveVerdict, reached int, blocked ...probe.UDPSubRange) probe.Result {
	c := udpChk("media-range", probe.KindUDPRange, "", status, "")
	if status == probe.StatusFail {
		c.Class = probe.ClassTimeout
	}
	c.Details.UDPRange = &probe.UDPRangeDetails{Ranges: "30000-33000", Ports: 90, Open: reached, Filtered: 90 - reached, Sampled: true, Sent: 200, Rounds: 3,
		Inconclusive: v == probe.LiveSilent || v == probe.LiveScattered,
		// Scattered silence shows as filtered runs too: the rule must not name them.
		SubRanges: []probe.UDPSubRange{{Range: probe.PortRange{First: 30000, Last: 30100}, State: probe.PortOpen, Ports: 5}, {Range: probe.PortRange{First: 30150, Last: 30150}, State: probe.PortFiltered, Ports: 1}},
		Live:      &probe.UDPLiveDetails{Verdict: v, Reached: reached, Density: 0.97, Blocked: blocked, Reason: "scattered or silent"}}
	return c
}

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
		{"blocked sub-range", liveRange(probe.StatusFail, probe.LiveBlocked, 50, blk), []Cause{cause.UDPPortRangeBlocked}, "31000-33000"},
		{"scattered (rate limit)", liveRange(probe.StatusWarn, probe.LiveScattered, 30), []Cause{cause.Untested}, "A responder"},
		{"silent everywhere", liveRange(probe.StatusWarn, probe.LiveSilent, 0), []Cause{cause.Untested}, "sampled live"},
		{"reached everywhere", liveRange(probe.StatusPass, probe.LiveReached, 90), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: []probe.Result{tlsOK, tc.c}}, nil)
			if got := causesOf(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v: %+v", got, tc.want, fs)
			}
			if len(fs) > 0 && (!strings.Contains(fs[0].Detail+fs[0].Title, tc.text) || strings.Contains(fs[0].Title, "30150")) {
				t.Fatalf("finding %+v", fs[0])
			}
		})
	}
}

package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/probe"
)

// The sip kind: how its evidence renders.

func init() { registerRender(probe.KindSIP, kindRender{Details: sipLines, Metrics: sipMetrics}) }

// sipLines: the answer and what the server saw of us.
func sipLines(c probe.Result) []string {
	s := c.Details.SIP
	if s == nil || s.StatusCode == 0 {
		return nil
	}
	l := fmt.Sprintf("%s answered %d %s in %.1f ms", s.Method, s.StatusCode, s.Reason, s.RTTMS)
	if s.UserAgent != "" {
		l += " (" + s.UserAgent + ")"
	}
	out := []string{l}
	if s.Rewritten || s.ALG {
		out = append(out, fmt.Sprintf("sent from %s, server saw received=%s rport=%d", s.LocalAddr, orDash(s.Received), s.RPort))
	}
	return out
}

func sipMetrics(cs checkSamples, d probe.Details) {
	if x := d.SIP; x != nil {
		if x.RTTMS > 0 {
			cs.s.add(descSIPRTT, foldMax, msToS(x.RTTMS), cs.id)
		}
		if x.StatusCode > 0 {
			cs.s.add(descSIPStatus, foldMax, float64(x.StatusCode), cs.id)
		}
	}
}

package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// The stun kind: how its evidence renders.

func init() { registerRender(probe.KindSTUN, kindRender{Details: stunLines, Metrics: stunMetrics}) }

// stunLines: how the server saw us, and the NAT behaviour.
func stunLines(c probe.Result) []string {
	s := c.Details.STUN
	if s == nil {
		return nil
	}
	var out []string
	if s.MappedAddr != "" {
		l := fmt.Sprintf("mapped %s from %s", s.MappedAddr, s.LocalAddr)
		if s.Interface != "" {
			l += " (" + s.Interface + ")"
		}
		l += fmt.Sprintf(", RTT %.1f ms", s.RTTMS)
		if s.Software != "" {
			l += ", server " + s.Software
		}
		out = append(out, l)
	} else if c.Class == probe.ClassRefused {
		out = append(out, fmt.Sprintf("%s answered ICMP port unreachable: the host is there, nothing listens on the port", s.Server))
	} else if c.Status == probe.StatusFail {
		out = append(out, fmt.Sprintf("%d %s to %s from %s, no answer", s.Attempts, plural(s.Attempts, "request", "requests"), s.Server, s.LocalAddr))
	}
	if s.Asymmetric {
		out = append(out, fmt.Sprintf("answer came from %s, not from %s", s.ReplyFrom, s.Server))
	}
	if n := s.NAT; n != nil {
		out = append(out, natLine(n))
	}
	return out
}

// natLine is the NAT behaviour with how it was tested.
func natLine(n *probe.NATInfo) string {
	l := "NAT mapping " + string(n.Mapping)
	if n.Filtering != "" {
		l += ", filtering " + string(n.Filtering)
	}
	switch {
	case n.Method == probe.NATMethodTURNRelay:
		l += " (through the TURN relay: " + strings.Join(natSeen(n), "; ") + ")"
	case n.RFC5780:
		l += " (RFC 5780 tests)"
	case len(n.Mapped) < 2 && n.Undetermined == "":
		l += " (one server only: give --stun HOST:PORT for a mapping test)"
	}
	if n.Undetermined != "" && !n.Mapping.Symmetric() {
		l += "; not determined: " + n.Undetermined
	}
	return l
}

func stunMetrics(cs checkSamples, d probe.Details) {
	if x := d.STUN; x != nil && x.RTTMS > 0 {
		cs.s.add(descSTUNRTT, foldMax, msToS(x.RTTMS), cs.id)
	}
}

package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// liveInconclusive: a range sampled without a responder that proved
// nothing (silent everywhere, or answers scattered between silence).
func liveInconclusive(c probe.Result) bool {
	u := c.Details.UDPRange
	return c.Kind == probe.KindUDPRange && c.Status == probe.StatusWarn && u != nil && u.Live != nil && u.Inconclusive
}

// liveWords says how a live sample named its blocked sub-ranges.
func liveWords(u *probe.UDPRangeDetails) string {
	l := u.Live
	s := fmt.Sprintf(" Sampled live without a responder (%d ports, %d packets): %d answered by STUN or ICMP port unreachable, so packets reach the host there; the named sub-ranges stayed silent over %d rounds while %.0f %% of the other sampled ports answered.",
		u.Ports, u.Sent, l.Reached, u.Rounds, 100*l.Density)
	if l.AnswersSTUN != "" {
		s += " The vendor says its media server answers STUN on these ports (" + l.AnswersSTUN + ")."
	}
	return s + " The direction is unknown; a responder (ucprobe serve) would tell inbound from return."
}

// liveUntestedWords says what the live samples found and what a responder
// would add.
func liveUntestedWords(cs []probe.Result) string {
	var parts []string
	for _, c := range cs {
		if liveInconclusive(c) {
			parts = append(parts, fmt.Sprintf("%s was sampled live (%d ports): %s", c.ID, c.Details.UDPRange.Ports, c.Details.UDPRange.Live.Reason))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, "; ") + ". A responder (ucprobe serve --udp RANGE at the far end, --responder HOST here) answers on every port and tells a block from a server that is silent there."
}

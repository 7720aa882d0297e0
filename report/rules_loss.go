package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/probe"
)

// packet-loss on a service: a UDP check got no answer while another check
// to the same host and port did over UDP (STUN silent, TURN over UDP on
// that port answered). The path carries UDP to that service: the silence
// is loss, a quality fact, never a block (issue 15's principle), so it is
// named as loss instead of as an unexplained failed check.
func ruleLossOnService(in *Input) []Finding {
	answered := map[string]probe.Result{}
	for _, c := range in.Checks {
		if c.Kind != probe.KindUDPRange && udpLike(c) && c.Status == probe.StatusPass {
			answered[udpDest(c)] = c
		}
	}
	var out []Finding
	for _, c := range in.Checks {
		if c.Kind == probe.KindUDPRange || c.UDP() != probe.UDPSilent {
			continue
		}
		ok, found := answered[udpDest(c)]
		if !found {
			continue
		}
		out = append(out, Finding{
			Cause:    cause.PacketLoss,
			Severity: SeverityWarning,
			Title:    fmt.Sprintf("UDP packets to %s are lost: %s got no answer while %s did", udpDest(c), c.ID, ok.ID),
			Detail: fmt.Sprintf("%s (%s) got no answer after its retransmissions, while %s to the same host and port was answered over UDP. "+
				"The path carries UDP to this service, so the silence is loss on the way, not a block.", c.ID, c.Kind, ok.ID),
			Evidence: []string{c.ID, ok.ID},
			Facts:    map[string]string{"destination": udpDest(c), "silent": c.ID, "answered": ok.ID},
		})
	}
	return out
}

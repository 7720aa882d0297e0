package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// symmetric-nat: the mapping depends on the destination (RFC 4787
// address- or address-and-port-dependent mapping). It is a warning even
// where TURN works: calls connect only when every client uses the relay.
func ruleSymmetricNAT(in *Input) []Finding {
	nat, ev := symmetricNAT(in)
	if nat == nil {
		return nil
	}
	detail := fmt.Sprintf("This network's NAT gives each destination its own public address/port (%s mapping, %s): %s. "+
		"Peers cannot reach the address STUN learned, so direct peer-to-peer media will fail; calls need a TURN relay.",
		nat.Mapping, natMethodWords(nat.Method), strings.Join(natSeen(nat), "; "))
	if slices.ContainsFunc(in.Checks, func(c probe.Result) bool { return c.Kind == probe.KindTURN && c.Status == probe.StatusPass }) {
		detail += " A TURN relay works from here: calls connect when the clients are configured to use it."
	}
	return []Finding{{
		Severity: SeverityWarning,
		Title:    "Symmetric NAT: direct media will not work, TURN is required",
		Detail:   detail,
		Evidence: ev,
		Facts: map[string]string{"mapping": string(nat.Mapping), "filtering": string(nat.Filtering),
			"public": nat.PublicAddr, "method": string(nat.Method)},
	}}
}

// natSeen lists the observations ("X saw Y"), in the order they were made.
func natSeen(nat *probe.NATInfo) []string {
	var out []string
	for _, o := range nat.Observations {
		out = append(out, fmt.Sprintf("%s saw %s (%s)", o.Destination, o.Mapped, o.Via))
	}
	if len(out) > 0 {
		return out
	}
	for srv, m := range nat.Mapped {
		out = append(out, srv+" saw "+m)
	}
	slices.Sort(out)
	return out
}

func natMethodWords(m probe.NATMethod) string {
	switch m {
	case probe.NATMethodTURNRelay:
		return "seen by the TURN server and by its relay, from one socket"
	case probe.NATMethodRFC5780:
		return "RFC 5780 tests against the STUN server's two addresses"
	}
	return "compared across STUN servers from one socket"
}

// symmetricNAT is the NAT evidence when it shows a destination-dependent
// mapping (any STUN or TURN check's, else the environment's), with the
// checks that measured it; nil otherwise.
func symmetricNAT(in *Input) (*probe.NATInfo, []string) {
	var nat *probe.NATInfo
	var ev []string
	for _, c := range in.Checks {
		var n *probe.NATInfo
		switch {
		case c.Details.STUN != nil:
			n = c.Details.STUN.NAT
		case c.Details.TURN != nil:
			n = c.Details.TURN.NAT
		}
		if n != nil && n.Mapping.Symmetric() {
			if nat == nil {
				nat = n
			}
			ev = append(ev, c.ID)
		}
	}
	if nat == nil && in.Env.NAT != nil && in.Env.NAT.Mapping.Symmetric() {
		nat, ev = in.Env.NAT, in.Env.NAT.Checks
	}
	return nat, ev
}

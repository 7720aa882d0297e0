package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// udpAnswered: something came back over UDP (probe's one judgement).
func udpAnswered(c probe.Result) bool { return c.UDP() == probe.UDPAnswered }

// udpBlockedEvidence: what udp-blocked counts as a UDP destination that
// got nothing back: silence, a silent live sample (counted only beside
// other silence) or a reject. Net or host unreachable is no-route's.
func udpBlockedEvidence(c probe.Result) bool {
	o := c.UDP()
	return o.GotNothing() && o != probe.UDPUnroutable
}

// tcpWorks: a TCP connection was established (TLS, WebSocket, TURN or
// STUN over TCP included).
func tcpWorks(c probe.Result) bool {
	if !tcpLike(c) || c.Status == probe.StatusSkip {
		return false
	}
	return c.Status == probe.StatusPass || c.Status == probe.StatusWarn ||
		c.Class == probe.ClassTLS || c.Class == probe.ClassAuth || c.Class == probe.ClassProtocol
}

// viaVPN reports whether the route to the check's address goes through a
// VPN interface (the vpn-no-udp rule owns that case).
func routeViaVPN(env probe.Environment, c probe.Result) bool {
	for _, r := range env.Routes {
		if r.Destination == endpoint(c) && r.ViaVPN {
			return true
		}
	}
	return false
}

// udpDest is the service a UDP check reached for: address and port (STUN
// and TURN on one port of one host are one service), or the address and
// its range for a sweep or live sample.
func udpDest(c probe.Result) string {
	if c.Kind == probe.KindUDPRange {
		return endpoint(c) + " " + c.Target
	}
	return fmt.Sprintf("%s:%d", endpoint(c), c.Port)
}

// minUDPDests is how many independent UDP services must fail before UDP
// as a whole is named: one service failing is that service.
const minUDPDests = 2

// udp-blocked: no UDP answer from any destination while TCP works. It is
// the root cause of failing STUN, TURN over UDP, silent ranges and ICE.
// It is claimed only as wide as its evidence: UDP fails to at least two
// independent services (distinct host:port; a range is one) on hosts
// that TCP reaches. Fewer is the narrower cause of that service (e.g.
// turn-unreachable when its TCP fails too).
func ruleUDPBlocked(in *Input) []Finding {
	failed := filter(in.Checks, func(c probe.Result) bool { return udpBlockedEvidence(c) && !routeViaVPN(in.Env, c) })
	if len(failed) == 0 || slices.ContainsFunc(in.Checks, udpAnswered) {
		return nil // nothing failed outside a VPN tunnel (vpn-no-udp), or some UDP gets through
	}
	tcpOK := filter(in.Checks, tcpWorks)
	tcpHosts := distinct(tcpOK, endpoint)
	failed = filter(failed, func(c probe.Result) bool { return slices.Contains(tcpHosts, endpoint(c)) })
	var dests []string
	for _, c := range failed {
		if d := udpDest(c); !slices.Contains(dests, d) {
			dests = append(dests, d)
		}
	}
	if len(dests) == 0 || len(dests) < minUDPDests && slices.ContainsFunc(failed, func(c probe.Result) bool { return c.UDP() == probe.UDPSilentSample }) {
		return nil // one silent live sample is inconclusive on its own
	}
	id, title := cause.UDPBlocked, "UDP is blocked: no UDP answer while TCP works"
	detail := fmt.Sprintf("No UDP answer came back from any of %d independent destinations (%s), while TCP to the same hosts works (%s). "+
		"A firewall on this client or at the site drops UDP.", len(dests), strings.Join(dests, "; "), strings.Join(targets(tcpOK), ", "))
	if len(dests) < minUDPDests {
		id, title = cause.UDPServiceBlocked, fmt.Sprintf("UDP to %s gets no answer while TCP to it works", dests[0])
		detail = fmt.Sprintf("UDP to %s (%s) got no answer, while TCP to the same host works (%s). No other UDP destination was tested, "+
			"so whether all UDP is blocked is open: a responder at the far end (--responder) or a second STUN server (--stun) tells.",
			dests[0], strings.Join(ids(failed), ", "), strings.Join(targets(tcpOK), ", "))
	}
	turnTCP := filter(in.Checks, func(c probe.Result) bool {
		return c.Kind == probe.KindTURN && tcpLike(c) && c.Status == probe.StatusPass
	})
	facts := map[string]string{"udp_failed": strings.Join(ids(failed), ","), "tcp_ok": strings.Join(ids(tcpOK), ","),
		"destinations": strings.Join(dests, ",")}
	if len(turnTCP) > 0 {
		var how []string
		for _, c := range turnTCP {
			how = append(how, fmt.Sprintf("%s %s", strings.ToUpper(string(c.Transport)), c.Target))
		}
		detail += fmt.Sprintf(" TURN works over %s: calls will still connect, but media will relay over TCP; expect worse quality (more delay, and jitter when packets are lost).",
			strings.Join(how, ", "))
		facts["media_over"] = "tcp-relay"
	}
	if ice := filter(in.Checks, relayOverTCP); len(ice) > 0 {
		if len(turnTCP) == 0 {
			detail += " ICE connected through a TURN relay reached over TCP: calls connect, but media relays over TCP; expect worse quality (more delay, and jitter when packets are lost)."
		}
		facts["media_over"] = "tcp-relay"
		facts["ice_path"] = strings.Join(ids(ice), ",")
	}
	// ICE that failed, or connected only through a relay reached over
	// TCP/TLS, is the same blocked UDP seen by media.
	ev := append(ids(failed), ids(filter(in.Checks, func(c probe.Result) bool {
		return c.Kind == probe.KindICE && (c.Status == probe.StatusFail || relayOverTCP(c))
	}))...)
	return []Finding{{
		Cause:    id,
		Severity: severityFor(failed...),
		Title:    title,
		Detail:   detail,
		Evidence: ev,
		Explains: []Cause{cause.TURNUnreachable, cause.UDPPortRangeBlocked, cause.ICEFailed, cause.RelayOnly},
		Facts:    facts,
	}}
}

// relayOverTCP: the ICE check's selected pair uses a relay candidate that
// reaches its TURN server over TCP or TLS.
func relayOverTCP(c probe.Result) bool { return c.Details.ICE.ClientRelayOverTCP() }

// targets lists checks as "kind target" once each.
func targets(cs []probe.Result) []string {
	var out []string
	for _, c := range cs {
		s := fmt.Sprintf("%s %s", c.Kind, c.Target)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// udp-port-range-blocked (seed 003 cause 1: "RTP port range for voice
// packets ... blocked by firewall"): a sweep of a required range got
// answers on some ports but not on others, or none on the range while
// other UDP gets through. It names the blocked sub-ranges and, from the
// responder's receipts, the direction. When nothing UDP passes at all,
// udp-blocked heads instead and folds this.
func ruleUDPPortRangeBlocked(in *Input) []Finding {
	var out []Finding
	for _, c := range in.Checks {
		u := c.Details.UDPRange
		if c.Kind != probe.KindUDPRange || c.Status != probe.StatusFail || u == nil || u.Inconclusive || u.TokenRefused || c.Class == probe.ClassAuth {
			continue
		}
		blocked, dirs := blockedRuns(u)
		n := 0
		var names, where []string
		for _, s := range blocked {
			n += s.Ports
			names = append(names, s.Range.String())
		}
		if len(blocked) == 0 { // evidence without sub-ranges: the counts
			if n = u.Filtered + u.Prohibited + u.Unreachable; n == 0 {
				continue
			}
			names = []string{u.Ranges}
		}
		what := "part of the range"
		if u.Open == 0 {
			what = "the whole range"
		}
		addr := endpoint(c)
		detail := fmt.Sprintf("UDP %s to %s: %d of %d swept ports answered; %d did not", u.Ranges, addr, u.Open, u.Ports, n)
		if len(blocked) > 0 {
			detail += " (" + strings.Join(describeRuns(blocked), ", ") + ")"
		}
		detail += "."
		switch {
		case dirs[probe.DirInbound] > 0 && dirs[probe.DirReturn] == 0:
			where = append(where, "inbound")
			detail += " The responder's receipts show these probes never arrived: a firewall on the way to the server (the server network's, or this client's outbound rules) drops them."
		case dirs[probe.DirReturn] > 0 && dirs[probe.DirInbound] == 0:
			where = append(where, "return")
			detail += " The responder's receipts show these probes arrived but the answers were lost: the return path (this client's firewall, or the site's stateful filtering) drops them."
		case dirs[probe.DirReturn] > 0:
			where = append(where, "inbound", "return")
			detail += " Some never arrived (inbound), some arrived and their answers were lost (return): see the sub-ranges."
		case u.Live != nil:
			detail += liveWords(u)
		default:
			detail += " Without the responder's receipts the direction is unknown."
		}
		if u.Sampled {
			detail += fmt.Sprintf(" The range was sampled (%d ports): bounds are those of the sampled ports.", u.Ports)
		}
		if u.RateLimited > 0 {
			detail += fmt.Sprintf(" The responder rate-limited %d probes; their silence is not a block.", u.RateLimited)
		}
		facts := map[string]string{"blocked": strings.Join(names, ","), "address": addr, "range": u.Ranges,
			"open": fmt.Sprint(u.Open), "ports": fmt.Sprint(u.Ports)}
		if len(where) > 0 {
			facts["direction"] = strings.Join(where, ",")
		}
		out = append(out, Finding{
			Severity: severityFor(c),
			Title:    fmt.Sprintf("UDP %s to %s is blocked (%s %s)", strings.Join(names, ","), addr, what, u.Ranges),
			Detail:   detail,
			Evidence: []string{c.ID},
			Facts:    facts,
		})
	}
	return out
}

// blockedRuns are the check's blocked runs (the probe's one judgement,
// UDPRangeDetails.BlockedRuns) and how many ports lie in each direction.
func blockedRuns(u *probe.UDPRangeDetails) ([]probe.UDPSubRange, map[string]int) {
	runs := u.BlockedRuns()
	dirs := map[string]int{}
	for _, s := range runs {
		dirs[s.Direction] += s.Ports
	}
	return runs, dirs
}

func describeRuns(rs []probe.UDPSubRange) []string {
	var out []string
	for i, s := range rs {
		if i == 8 {
			out = append(out, fmt.Sprintf("and %d more runs", len(rs)-8))
			break
		}
		out = append(out, s.String())
	}
	return out
}

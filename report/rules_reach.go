package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// dns-failure: a target name does not resolve. The checks that needed the
// name were skipped; they are evidence of what could not be tested.
func ruleDNSFailure(in *Input) []Finding {
	var out []Finding
	for _, d := range in.Checks {
		if d.Kind != probe.KindDNS || d.Status != probe.StatusFail {
			continue
		}
		deps := filter(in.Checks, func(c probe.Result) bool {
			return c.Kind != probe.KindDNS && c.Host == d.Host && c.Class == probe.ClassDNS
		})
		detail := fmt.Sprintf("The resolver could not resolve %s: %s.", d.Host, d.Error)
		if det := d.Details.DNS; det != nil && det.NotFound {
			detail = fmt.Sprintf("The resolver says %s does not exist (NXDOMAIN). An internal name that only the company DNS knows fails like this when the VPN is not up.", d.Host)
		}
		if len(deps) > 0 {
			detail += fmt.Sprintf(" %d %s could not run.", len(deps), plural(len(deps), "check", "checks"))
		}
		sev := SeverityCritical
		if len(deps) > 0 {
			sev = severityFor(deps...)
		}
		out = append(out, Finding{
			Severity: sev,
			Title:    d.Host + " does not resolve",
			Detail:   detail,
			Evidence: append([]string{d.ID}, ids(deps)...),
			Facts:    map[string]string{"name": d.Host},
		})
	}
	return out
}

// multi-homed-server (seed 003, cause 2 variant 2: "Server has several IP
// addresses which are not routed among each other"): a name with several
// addresses where the same check gets through to some and not to others
// (the runner probes each address separately), or where the server
// answers from another address than the one asked.
func ruleMultiHomed(in *Input) []Finding {
	var out []Finding
	live := aliveAddrs(in.Checks)
	hosts, byHost := groupBy(filter(ran(in.Checks), func(c probe.Result) bool {
		return c.Kind != probe.KindDNS && c.Address != "" && c.Host != c.Address
	}), func(c probe.Result) string { return c.Host })
	for _, h := range hosts {
		addrs := distinct(byHost[h], func(c probe.Result) string { return c.Address })
		if len(addrs) < 2 {
			continue
		}
		good, bad, split := splitAddrs(byHost[h], addrs, live)
		if len(good) == 0 || len(bad) == 0 {
			continue
		}
		// The evidence is every check to a dead address, whatever name
		// led to it (they all fail for this one reason), and the checks
		// that failed on one address while answering on another.
		ev := filter(ran(in.Checks), func(c probe.Result) bool {
			return live[endpoint(c)] == addrDead && slices.Contains(bad, endpoint(c)) || slices.ContainsFunc(split, func(s probe.Result) bool { return s.ID == c.ID })
		})
		checks := distinct(ev, baseID)
		detail := fmt.Sprintf("%s has the addresses %s. %s answered; %s did not (%s). "+
			"A client that picks the unreachable address fails; media negotiated on it fails even when signalling works.",
			h, strings.Join(addrs, ", "), strings.Join(good, ", "), strings.Join(bad, ", "), outcomes(ev))
		if !in.Env.VPN.Up && slices.ContainsFunc(bad, probe.IsInternal) && !slices.ContainsFunc(good, probe.IsInternal) {
			detail += " The unreachable address is internal (private) and no VPN is up: the name mixes company-network and public addresses."
		}
		out = append(out, Finding{
			Severity: severityFor(ev...),
			Title:    fmt.Sprintf("%s has %d addresses; %s %s not reachable", h, len(addrs), strings.Join(bad, ", "), plural(len(bad), "is", "are")),
			Detail:   detail,
			Evidence: ids(ev),
			Explains: []Cause{cause.TCPBlocked, cause.NoRoute, cause.HostUnreachable, cause.UDPBlocked, cause.UDPServiceBlocked, cause.UDPPortRangeBlocked,
				cause.PortClosed, cause.TURNUnreachable},
			Facts: map[string]string{"reachable": strings.Join(good, ","), "unreachable": strings.Join(bad, ","), "checks": strings.Join(checks, ",")},
		})
	}
	// An answer from another address than the one asked (asymmetric reply).
	for _, c := range in.Checks {
		if s := c.Details.STUN; s != nil && s.Asymmetric {
			out = append(out, Finding{
				Severity: SeverityWarning,
				Title:    fmt.Sprintf("%s answers from another address (%s) than the one asked (%s)", c.Host, s.ReplyFrom, s.Server),
				Detail:   "The server replies from a different address: it has several addresses and its replies leave by another one. Firewalls and NATs that match replies drop such answers.",
				Evidence: []string{c.ID},
				Facts:    map[string]string{"asked": s.Server, "reply_from": s.ReplyFrom},
			})
		}
	}
	return out
}

// Liveness of one address.
const (
	addrUnknown = iota
	addrAlive   // something answered it
	addrDead    // checks ran to it and none got an answer
)

// aliveAddrs judges each IP address over every check that reached for it,
// whatever name led there: an address is alive when anything answered it
// (a TCP connect or reset on any port, a STUN or TURN answer, a port of a
// sweep or live sample that answered or was refused), and dead when checks
// ran to it and every one failed unanswered.
func aliveAddrs(checks []probe.Result) map[string]int {
	out := map[string]int{}
	for _, c := range ran(checks) {
		if c.Kind == probe.KindDNS || c.Kind == probe.KindICE {
			continue
		}
		a := endpoint(c)
		switch {
		case addrAnswered(c):
			out[a] = addrAlive
		case out[a] == addrUnknown && c.Status == probe.StatusFail:
			out[a] = addrDead
		}
	}
	return out
}

// splitAddrs sorts a name's addresses: bad are the dead ones (nothing
// answered them) and those where a check stayed silent that another
// address answered (split, those checks: routed differently); good are
// live addresses that are not bad.
func splitAddrs(cs []probe.Result, addrs []string, live map[string]int) (good, bad []string, split []probe.Result) {
	bases, byBase := groupBy(cs, baseID)
	for _, b := range bases {
		ok := filter(byBase[b], answered)
		silent := filter(byBase[b], func(c probe.Result) bool { return c.Status == probe.StatusFail && !answered(c) })
		if len(ok) > 0 && len(silent) > 0 {
			split = append(split, silent...)
		}
	}
	for _, a := range addrs {
		isSplit := slices.ContainsFunc(split, func(c probe.Result) bool { return c.Address == a })
		switch {
		case live[a] == addrDead || isSplit:
			bad = append(bad, a)
		case live[a] == addrAlive:
			good = append(good, a)
		}
	}
	return good, bad, split
}

// addrAnswered: the check's address sent something back.
func addrAnswered(c probe.Result) bool {
	if c.Kind == probe.KindUDPRange && c.UDP() == probe.UDPAnswered {
		return true
	}
	if t := c.Details.TURN; t != nil && t.Answers > 0 {
		return true
	}
	return answered(c)
}

// baseID is a check's id without the runner's per-address "@ADDR" suffix.
func baseID(c probe.Result) string { return c.BaseID() }

// answered: the address showed it is there (a pass, or an answer that
// proves the packet reached the host: RST / port unreachable).
func answered(c probe.Result) bool {
	if u := c.Details.UDPRange; u != nil && u.Live != nil {
		// Sampled live: the host answered when any port was reached
		// (STUN or ICMP); silence is no answer.
		return u.Live.Reached > 0
	}
	return c.Status == probe.StatusPass || c.Status == probe.StatusWarn || c.Class == probe.ClassRefused ||
		c.Class == probe.ClassTLS || c.Class == probe.ClassProtocol || c.Class == probe.ClassAuth
}

// no-route (seed 003, cause 2 "Routing is not correct"): ICMP net/host
// unreachable or no local route.
func ruleNoRoute(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool { return c.Status == probe.StatusFail && c.Class == probe.ClassUnreachable })
	keys, by := groupBy(bad, endpoint)
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		detail := fmt.Sprintf("There is no route to %s: the network said host or network unreachable, or this client has no route.", k)
		for _, r := range in.Env.Routes {
			if r.Destination == k && r.NoRoute {
				detail = fmt.Sprintf("This client has no route to %s.", k)
				if in.Env.VPN.Up && probe.IsInternal(k) {
					detail += fmt.Sprintf(" A VPN is up (%s) but does not route this internal address: its routes (split tunnel) may lack the server's network.",
						strings.Join(in.Env.VPN.Interfaces, ", "))
				}
			}
		}
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "No route to " + k,
			Detail:   detail,
			Evidence: ids(cs),
			Facts:    map[string]string{"address": k},
		})
	}
	return out
}

// host-unreachable (no seed; added by the diagnosis): every check to an
// address went unanswered (timeouts
// only), TCP included: the host is down or filtered entirely.
func ruleHostUnreachable(in *Input) []Finding {
	keys, by := groupBy(filter(ran(in.Checks), func(c probe.Result) bool { return c.Kind != probe.KindDNS }), endpoint)
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		silent := !slices.ContainsFunc(cs, func(c probe.Result) bool { return c.Status != probe.StatusFail || c.Class != probe.ClassTimeout })
		if !silent || !slices.ContainsFunc(cs, tcpLike) || len(cs) < 2 {
			continue
		}
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "Nothing on " + k + " answers",
			Detail:   fmt.Sprintf("All %d checks to %s went unanswered (no reset, no ICMP error): the host is down, or a firewall drops everything from this client.", len(cs), k),
			Evidence: ids(cs),
			Explains: []Cause{cause.TCPBlocked, cause.UDPBlocked, cause.UDPServiceBlocked, cause.UDPPortRangeBlocked},
			Facts:    map[string]string{"address": k},
		})
	}
	return out
}

// tcp-blocked (seed 003 "An incoming call is signaled via port 2230";
// seed 000 firewall rules, TCP 443/7222): a TCP connect to a required port
// times out (filtered) or is rejected by a firewall.
func ruleTCPBlocked(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool {
		return tcpLike(c) && c.Status == probe.StatusFail && (c.Class == probe.ClassTimeout || c.Class == probe.ClassProhibited)
	})
	keys, by := groupBy(bad, endpoint)
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		how := "timed out (silently dropped: filtered)"
		if slices.ContainsFunc(cs, func(c probe.Result) bool { return c.Class == probe.ClassProhibited }) {
			how = "was rejected by a firewall (administratively prohibited)"
		}
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    fmt.Sprintf("TCP %s to %s blocked", portList(cs), k),
			Detail:   fmt.Sprintf("The TCP connect to %s on %s %s.", k, portList(cs), how),
			Evidence: ids(cs),
			Facts:    map[string]string{"address": k, "ports": portList(cs)},
		})
	}
	return out
}

// port-closed (seed 003: the call is signalled on 2230 only when the
// XPhone services listen): the host answers with a reset: reachable,
// nothing listening.
func rulePortClosed(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool {
		return tcpLike(c) && c.Status == probe.StatusFail && c.Class == probe.ClassRefused
	})
	// A TURN port and a UC service port on one host are two services: each
	// gets its finding (and remedy), and turn-unreachable can fold the
	// TURN one.
	keys, by := groupBy(bad, func(c probe.Result) string {
		if c.Kind == probe.KindTURN {
			return endpoint(c) + " (TURN)"
		}
		return endpoint(c)
	})
	var out []Finding
	for _, key := range keys {
		cs := by[key]
		k := endpoint(cs[0])
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    fmt.Sprintf("Nothing listens on TCP %s at %s", portList(cs), k),
			Detail:   fmt.Sprintf("%s answered the connect with a reset: the host is reachable, but no service listens on %s (or a firewall rejects with RST).", k, portList(cs)),
			Evidence: ids(cs),
			Facts:    map[string]string{"address": k, "ports": portList(cs)},
		})
	}
	return out
}

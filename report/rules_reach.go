package report

import (
	"fmt"
	"slices"
	"strings"

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
	hosts, byHost := groupBy(filter(ran(in.Checks), func(c probe.Result) bool {
		return c.Kind != probe.KindDNS && c.Address != "" && c.Host != c.Address
	}), func(c probe.Result) string { return c.Host })
	for _, h := range hosts {
		addrs := distinct(byHost[h], func(c probe.Result) string { return c.Address })
		if len(addrs) < 2 {
			continue
		}
		// Per check: which addresses answered, which stayed silent.
		bases, byBase := groupBy(byHost[h], baseID)
		var good, bad, splitChecks []string
		var ev []probe.Result
		for _, b := range bases {
			cs := byBase[b]
			ok := filter(cs, answered)
			silent := filter(cs, func(c probe.Result) bool { return c.Status == probe.StatusFail && !answered(c) })
			if len(ok) == 0 || len(silent) == 0 {
				continue
			}
			splitChecks = append(splitChecks, b)
			ev = append(ev, silent...)
			for _, c := range ok {
				if !slices.Contains(good, c.Address) {
					good = append(good, c.Address)
				}
			}
			for _, c := range silent {
				if !slices.Contains(bad, c.Address) {
					bad = append(bad, c.Address)
				}
			}
		}
		if len(splitChecks) == 0 {
			continue
		}
		detail := fmt.Sprintf("%s has the addresses %s. %s gets through to %s but not to %s. A client that picks the unreachable address fails; "+
			"media negotiated on it fails even when signalling works.", h, strings.Join(addrs, ", "), strings.Join(splitChecks, ", "),
			strings.Join(good, ", "), strings.Join(bad, ", "))
		if !in.Env.VPN.Up && slices.ContainsFunc(bad, probe.IsInternal) && !slices.ContainsFunc(good, probe.IsInternal) {
			detail += " The unreachable address is internal (private) and no VPN is up: the name mixes company-network and public addresses."
		}
		out = append(out, Finding{
			Severity: severityFor(ev...),
			Title:    fmt.Sprintf("%s has %d addresses; %s %s not reachable for %s", h, len(addrs), strings.Join(bad, ", "), plural(len(bad), "is", "are"), strings.Join(splitChecks, ", ")),
			Detail:   detail,
			Evidence: ids(ev),
			Explains: []Cause{CauseTCPBlocked, CauseNoRoute, CauseHostUnreachable, CauseUDPBlocked, CauseUDPPortRangeBlocked,
				CausePortClosed, CauseTURNUnreachable},
			Facts: map[string]string{"reachable": strings.Join(good, ","), "unreachable": strings.Join(bad, ","), "checks": strings.Join(splitChecks, ",")},
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

// baseID is a check's id without the runner's per-address "@ADDR" suffix.
func baseID(c probe.Result) string { return strings.TrimSuffix(c.ID, "@"+c.Address) }

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
			Explains: []Cause{CauseTCPBlocked, CauseUDPBlocked, CauseUDPPortRangeBlocked},
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
	keys, by := groupBy(bad, endpoint)
	var out []Finding
	for _, k := range keys {
		cs := by[k]
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

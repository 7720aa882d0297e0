package report

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// Rules driven by the client's own network (environment): which interface
// a packet leaves by, whether a VPN is up, what kind of address a name
// has. They read Input.Env next to the checks.

// routeOf is the route the OS uses to a check's address, if known.
func routeOf(in *Input, c probe.Result) (probe.Route, bool) {
	k := endpoint(c)
	for _, r := range in.Env.Routes {
		if r.Destination == k {
			return r, true
		}
	}
	return probe.Route{}, false
}

func ifaceOf(env probe.Environment, name string) (probe.Interface, bool) {
	i := slices.IndexFunc(env.Interfaces, func(it probe.Interface) bool { return it.Name == name })
	if i < 0 {
		return probe.Interface{}, false
	}
	return env.Interfaces[i], true
}

// udpShutInTunnel: what vpn-no-udp counts as UDP a tunnel did not carry:
// silence, a reject, or no route (a tunnel answering "unreachable" for UDP
// is the fault). A silent live sample is not enough on its own: a media
// server answers only where it listens.
func udpShutInTunnel(c probe.Result) bool {
	o := c.UDP()
	return o.GotNothing() && o != probe.UDPSilentSample
}

// iceUDPFailure: an ICE check that failed, or connected only by falling
// back to a relay over TCP/TLS: what a path without UDP produces.
func iceUDPFailure(c probe.Result) bool {
	if c.Kind != probe.KindICE || c.Status == probe.StatusSkip {
		return false
	}
	d := c.Details.ICE
	// A signalling exchange that never finished ran over TCP (HTTP): it
	// says nothing about UDP.
	if d != nil && d.Signalling != nil && d.Signalling.Stage != probe.StageDone {
		return false
	}
	if c.Status == probe.StatusFail {
		return true
	}
	return d.ClientRelayOverTCP()
}

// vpn-no-udp (seed 003, cause 2 variant 1: "Client uses a VPN tunnel over
// which the UDP packets are generally not routed"): the route to the
// target goes through a VPN interface, TCP through that interface gets
// answers, UDP through it gets none. Grouped per tunnel, because the
// tunnel, not the server, is what drops UDP.
func ruleVPNNoUDP(in *Input) []Finding {
	byIface := map[string][]probe.Result{}
	var order []string
	for _, c := range ran(in.Checks) {
		r, ok := routeOf(in, c)
		if !ok || !r.ViaVPN || r.NoRoute {
			continue
		}
		if _, seen := byIface[r.Interface]; !seen {
			order = append(order, r.Interface)
		}
		byIface[r.Interface] = append(byIface[r.Interface], c)
	}
	var out []Finding
	for _, name := range order {
		cs := byIface[name]
		udpBad := filter(cs, udpShutInTunnel)
		tcpOK := filter(cs, func(c probe.Result) bool { return tcpLike(c) && answered(c) })
		tcpBad := filter(cs, func(c probe.Result) bool { return tcpLike(c) && c.Status == probe.StatusFail && !answered(c) })
		if len(udpBad) == 0 || slices.ContainsFunc(cs, udpAnswered) {
			continue
		}
		// TCP through the tunnel failing as well is a dead tunnel or a
		// silent host (host-unreachable, tcp-blocked), not a UDP problem.
		if len(tcpOK) == 0 && len(tcpBad) > 0 {
			continue
		}
		// ICE checks name a host, not one address: they count when the
		// host is one whose UDP dies in this tunnel.
		badHosts := distinct(udpBad, func(c probe.Result) string { return c.Host })
		ice := filter(in.Checks, func(c probe.Result) bool {
			return iceUDPFailure(c) && (slices.Contains(badHosts, c.Host) || slices.ContainsFunc(cs, func(v probe.Result) bool { return v.ID == c.ID }))
		})
		it, _ := ifaceOf(in.Env, name)
		how := it.VPNHow
		if how == "" {
			how = "a VPN interface"
		}
		addrs := distinct(udpBad, endpoint)
		tcpSays, title, tcpFact := fmt.Sprintf("TCP through the tunnel works (%s)", strings.Join(ids(tcpOK), ", ")),
			fmt.Sprintf("The VPN tunnel %s carries TCP but not UDP", name), "works"
		if len(tcpOK) == 0 {
			// The tunnel's other protocols were not tested: say so
			// rather than claim TCP works.
			tcpSays, title, tcpFact = "no TCP check went through the tunnel, so whether it carries TCP could not be determined",
				fmt.Sprintf("No UDP gets through the VPN tunnel %s", name), "untested"
		}
		consequence := "Calls can be set up over TCP, but their audio, which is UDP, does not flow."
		if len(tcpOK) == 0 {
			consequence = "Call audio, which is UDP, does not flow through it."
		}
		detail := fmt.Sprintf("The route to %s goes through the VPN interface %s (%s, MTU %d). %s, but no UDP gets back through it (%s). %s",
			strings.Join(addrs, ", "), name, how, it.MTU, upperFirst(tcpSays), outcomes(udpBad), consequence)
		if len(ice) > 0 {
			detail += fmt.Sprintf(" The media connection check (%s) failed or fell back to a relay over TCP for the same reason.", strings.Join(ids(ice), ", "))
		}
		ev := append(append(ids(udpBad), ids(ice)...), ids(tcpOK)...)
		out = append(out, Finding{
			Severity: severityFor(append(udpBad, ice...)...),
			Title:    title,
			Detail:   detail,
			Evidence: ev,
			// A TURN relay that allocates over TCP through the tunnel
			// but echoes nothing is the same tunnel: the relay echo's
			// other leg is UDP from this client to the relayed address.
			Explains: []Cause{cause.UDPBlocked, cause.UDPServiceBlocked, cause.UDPPortRangeBlocked, cause.TURNUnreachable, cause.TURNRelayFailed, cause.ICEFailed,
				cause.RelayOnly, cause.MultiHomedServer, cause.HostUnreachable},
			Facts: map[string]string{"interface": name, "addresses": strings.Join(addrs, ","), "vpn_how": it.VPNHow,
				"mtu": fmt.Sprint(it.MTU), "tcp_through_tunnel": tcpFact},
		})
	}
	return out
}

// vpn-required (seed 003, cause 4: "The XPhone Connect Client is not
// connected to the XPhone Server via a VPN"): nothing on a target answers
// and either
//   - it has a private (RFC 1918 / RFC 4193) or CGNAT address, there is no
//     route to it or the route leaves by the default gateway rather than a
//     network of this client's own, and no VPN is up; or
//   - the route to it goes through a VPN interface that is not connected
//     (the tunnel device is there, its client is not running).
func ruleVPNRequired(in *Input) []Finding {
	hosts, byHost := groupBy(filter(ran(in.Checks), func(c probe.Result) bool {
		return c.Kind != probe.KindDNS && endpoint(c) != ""
	}), func(c probe.Result) string { return c.Host })
	var out []Finding
	for _, h := range hosts {
		cs := byHost[h]
		// Why each address needs the VPN, or "" when it does not.
		why := map[string]string{}
		for _, a := range distinct(cs, endpoint) {
			r, known := routeOf(in, probe.Result{Address: a})
			if known && r.ViaVPN && !r.NoRoute {
				if it, ok := ifaceOf(in.Env, r.Interface); ok && !(it.Up && it.Running) {
					why[a] = fmt.Sprintf("%s: routed into the VPN interface %s, which is not connected", a, r.Interface)
				}
				continue
			}
			if in.Env.VPN.Up || !probe.IsInternal(a) {
				continue
			}
			switch {
			case !known:
				why[a] = a + ": internal address, route not known"
			case r.NoRoute:
				why[a] = a + ": internal address, no route"
			case onLink(in.Env, a) || (r.How == "netlink" && r.Gateway == "" && !r.ViaVPN):
				// On this client's own LAN: a silent server there is
				// down, not behind a VPN.
			default:
				why[a] = fmt.Sprintf("%s: internal address, sent to the gateway %s on %s", a, r.Gateway, r.Interface)
			}
		}
		need := filter(cs, func(c probe.Result) bool { return why[endpoint(c)] != "" })
		if len(need) == 0 || slices.ContainsFunc(need, answered) ||
			!slices.ContainsFunc(need, func(c probe.Result) bool { return c.Status == probe.StatusFail }) {
			continue
		}
		addrs := distinct(need, endpoint)
		var reasons []string
		for _, a := range addrs {
			reasons = append(reasons, why[a])
		}
		others := filter(cs, func(c probe.Result) bool { return why[endpoint(c)] == "" })
		sev := severityFor(need...)
		detail := fmt.Sprintf("%s (%s) is only reachable through the company VPN, and this client is not connected to it: %s. Nothing answered (%s).",
			h, strings.Join(addrs, ", "), strings.Join(reasons, "; "), outcomes(need))
		if len(others) > 0 {
			if slices.ContainsFunc(others, answered) {
				continue // another address works: the multi-homed rule tells that story
			}
			sev = SeverityWarning
			detail += fmt.Sprintf(" %s also has the address %s, which did not answer either: "+
				"whether this client must use the VPN or that address cannot be determined from here.",
				h, strings.Join(distinct(others, endpoint), ", "))
		}
		// The responder's signalling to the same host went unanswered
		// for the same reason.
		ev := ids(need)
		for _, c := range unansweredSignalling(in, h) {
			if !slices.Contains(ev, c.ID) {
				ev = append(ev, c.ID)
			}
		}
		out = append(out, Finding{
			Severity: sev,
			Title:    fmt.Sprintf("%s is on the company network, and this client is not connected to the VPN", h),
			Detail:   detail,
			Evidence: ev,
			Explains: []Cause{cause.NoRoute, cause.HostUnreachable, cause.TCPBlocked, cause.UDPBlocked, cause.UDPServiceBlocked, cause.UDPPortRangeBlocked,
				cause.TURNUnreachable, cause.ICEFailed, cause.ICESignalling},
			Facts: map[string]string{"host": h, "addresses": strings.Join(addrs, ",")},
		})
	}
	return out
}

// unansweredSignalling are the ICE checks to host whose signalling with
// the responder got no answer (silence, no route, nothing listening): the
// same unreachable host seen over HTTP.
func unansweredSignalling(in *Input, host string) []probe.Result {
	return filter(iceChecks(in), func(c probe.Result) bool {
		return c.Host == host && signallingFailed(c) &&
			(c.Class == probe.ClassTimeout || c.Class == probe.ClassUnreachable || c.Class == probe.ClassRefused)
	})
}

// small-mtu (no vendor seed; RFC 8200 section 5, IPv6 minimum link MTU):
// the route to a target leaves by an interface whose MTU is below 1280. Large datagrams (TLS certificates, video,
// DTLS handshakes) then need fragmentation or path-MTU discovery; when
// ICMP is filtered they vanish. A TLS/WebSocket handshake that timed out
// where plain TCP connects work makes it a warning; otherwise it is a
// fact (info). It explains nothing: the TCP/TLS rules still report.
func ruleSmallMTU(in *Input) []Finding {
	var out []Finding
	for _, r := range in.Env.Routes {
		if r.NoRoute || r.MTU == 0 || r.MTU >= 1280 {
			continue
		}
		cs := filter(ran(in.Checks), func(c probe.Result) bool { return endpoint(c) == r.Destination })
		connects := slices.ContainsFunc(cs, func(c probe.Result) bool { return c.Kind == probe.KindTCP && answered(c) })
		stalled := filter(cs, func(c probe.Result) bool {
			return connects && (c.Kind == probe.KindTLS || c.Kind == probe.KindWebSocket) && c.Status == probe.StatusFail && c.Class == probe.ClassTimeout
		})
		sev := SeverityInfo
		detail := fmt.Sprintf("The route to %s leaves by %s with an MTU of %d bytes, below the 1280 that IPv6 and many media stacks assume.", r.Destination, r.Interface, r.MTU)
		if len(stalled) > 0 {
			sev = SeverityWarning
			detail += fmt.Sprintf(" TCP connects to it work, yet the TLS handshake (%s) timed out: the typical sign of large packets lost on a small-MTU path.", strings.Join(ids(stalled), ", "))
			cs = stalled
		}
		out = append(out, Finding{
			Severity: sev,
			Title:    fmt.Sprintf("Small MTU (%d) on the way to %s", r.MTU, r.Destination),
			Detail:   detail,
			Evidence: ids(cs),
			Refs:     []string{"RFC 8200"},
			Facts:    map[string]string{"interface": r.Interface, "mtu": fmt.Sprint(r.MTU), "address": r.Destination},
		})
	}
	return out
}

// onLink reports whether an address lies in a subnet of one of this
// client's own (non-loopback) interfaces.
func onLink(env probe.Environment, addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, it := range env.Interfaces {
		if it.Kind == probe.IfLoopback || it.VPN {
			continue // a tunnel's subnet is the far side's network, not this client's LAN
		}
		for _, s := range it.Addrs {
			if p, err := netip.ParsePrefix(s); err == nil && p.Masked().Contains(a.Unmap()) {
				return true
			}
		}
	}
	return false
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// distinct are the distinct keys of checks, in order.
func distinct(cs []probe.Result, key func(probe.Result) string) []string {
	keys, _ := groupBy(cs, key)
	return keys
}

// outcomes summarises failed checks as "id: class" pairs.
func outcomes(cs []probe.Result) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		what := string(c.Class)
		if r := c.Details.UDPRange; r != nil {
			what = fmt.Sprintf("%d of %d ports answered", r.Open, r.Ports)
		}
		if what == "" {
			what = string(c.Status)
		}
		parts = append(parts, c.ID+": "+what)
	}
	return strings.Join(parts, ", ")
}

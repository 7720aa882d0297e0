package report

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// turn-auth-failed: the server answered 401/441 to our credentials.
func ruleTURNAuthFailed(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool {
		t := c.Details.TURN
		return c.Kind == probe.KindTURN && c.Status == probe.StatusFail && c.Class == probe.ClassAuth && t != nil && t.Credentials != probe.CredNone
	})
	keys, by := groupBy(bad, func(c probe.Result) string { return c.Host })
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		t := cs[0].Details.TURN
		detail := fmt.Sprintf("The TURN server %s answered %d %s to the %s credentials of user %q.", k, t.ErrorCode, t.ErrorReason, t.Credentials, t.Username)
		if t.Credentials == probe.CredREST {
			detail += " These are TURN REST (time-limited) credentials from the shared secret: check the secret, and this machine's clock (the user name carries the expiry time)."
		} else {
			detail += " Check the user name and password (and the realm" + realmOf(t) + ")."
		}
		detail += " The server is reachable; only the credentials fail."
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "TURN server " + k + " rejects the credentials",
			Detail:   detail,
			Evidence: append(ids(cs), ids(iceFailedVia(in, k))...),
			Explains: []Cause{cause.ICEFailed},
			Facts:    map[string]string{"code": fmt.Sprint(t.ErrorCode), "credentials": string(t.Credentials)},
		})
	}
	return out
}

func realmOf(t *probe.TURNDetails) string {
	if t.Realm == "" {
		return ""
	}
	return fmt.Sprintf(" %q", t.Realm)
}

// turn-unreachable: every TURN check to a server got no answer, on every
// transport tried.
func ruleTURNUnreachable(in *Input) []Finding {
	turns := filter(ran(in.Checks), func(c probe.Result) bool { return c.Kind == probe.KindTURN })
	keys, by := groupBy(turns, func(c probe.Result) string { return c.Host })
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		dead := !slices.ContainsFunc(cs, func(c probe.Result) bool {
			return c.Status != probe.StatusFail || !noAnswer(c.Class)
		})
		if !dead {
			continue
		}
		var how []string
		for _, c := range cs {
			how = append(how, fmt.Sprintf("%s %d: %s", strings.ToUpper(string(c.Transport)), c.Port, c.Class))
		}
		// STUN to the same server failing the same way is the same fact.
		stuns := filter(in.Checks, func(c probe.Result) bool {
			return c.Kind == probe.KindSTUN && c.Host == k && c.Status == probe.StatusFail && noAnswer(c.Class)
		})
		cs = append(append(cs, stuns...), iceFailedVia(in, k)...)
		explains := []Cause{cause.ICEFailed, cause.PortClosed}
		// A host that is only this TURN server (every check to its
		// addresses is STUN/TURN): "nothing on it answers" and "TCP to
		// it is filtered" are this same fact, so they fold here.
		if host := turnOnlyHost(in, cs); len(host) > 0 {
			cs = host
			explains = append(explains, cause.HostUnreachable, cause.TCPBlocked)
		}
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "TURN server " + k + " answers on no transport",
			Detail: fmt.Sprintf("No TURN answer from %s (%s). Without a reachable TURN server, calls fail wherever a direct path is not possible.",
				k, strings.Join(how, "; ")),
			Evidence: ids(cs),
			Explains: explains,
			Facts:    map[string]string{"server": k},
		})
	}
	return out
}

// turnOnlyHost returns the evidence plus every other check to the same
// addresses when all of those are STUN or TURN checks (or ICE through
// that server); nil when the address also serves something else.
func turnOnlyHost(in *Input, cs []probe.Result) []probe.Result {
	addrs := map[string]bool{}
	have := map[string]bool{}
	for _, c := range cs {
		if c.Kind != probe.KindICE {
			addrs[endpoint(c)] = true
		}
		have[c.ID] = true
	}
	out := slices.Clone(cs)
	for _, c := range ran(in.Checks) {
		if c.Kind == probe.KindDNS || !addrs[endpoint(c)] || have[c.ID] {
			continue
		}
		if c.Kind != probe.KindSTUN && c.Kind != probe.KindTURN {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// noAnswer: the classes that mean the server never answered.
func noAnswer(c probe.ErrorClass) bool {
	switch c {
	case probe.ClassTimeout, probe.ClassRefused, probe.ClassUnreachable, probe.ClassProhibited:
		return true
	}
	return false
}

// turn-relay-failed: the allocation worked (the server answers, the
// credentials are good) but none of the datagrams sent through the relay
// came back.
// iceThroughRelay: an ICE check connected through a relay of the TURN
// check's server (a relay candidate on the server's address, or on the
// check's relayed address). That is stronger evidence than an echo of
// our own that came back empty: the relay carries media.
func iceThroughRelay(in *Input, turn probe.Result) bool {
	hosts := []string{endpoint(turn)}
	if t := turn.Details.TURN; t != nil {
		if h, _, err := net.SplitHostPort(t.RelayedAddr); err == nil {
			hosts = append(hosts, h)
		}
	}
	return slices.ContainsFunc(in.Checks, func(c probe.Result) bool {
		d := c.Details.ICE
		if c.Kind != probe.KindICE || c.Status != probe.StatusPass || d == nil {
			return false
		}
		// Media looped through this server's relay (relay-loopback) came back.
		if m := d.Media; d.Mode == probe.ICERelayLoopback && m != nil && m.Received > 0 && (c.Host == turn.Host || endpoint(c) == endpoint(turn)) {
			return true
		}
		if d.Selected == nil {
			return false
		}
		for _, cand := range []probe.ICECandidate{d.Selected.Local, d.Selected.Remote} {
			if cand.Type == probe.CandidateRelay && slices.Contains(hosts, cand.Address) {
				return true
			}
		}
		return false
	})
}

func ruleTURNRelayFailed(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool {
		t := c.Details.TURN
		return c.Kind == probe.KindTURN && c.Status == probe.StatusFail && t != nil && t.RelayedAddr != "" && t.RelaySent > 0 && t.RelayReceived == 0 &&
			!iceThroughRelay(in, c)
	})
	keys, by := groupBy(bad, func(c probe.Result) string { return c.Host })
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		t := cs[0].Details.TURN
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "TURN server " + k + " allocates relays, but nothing passes through them",
			Detail: fmt.Sprintf("The allocation worked (relayed address %s) and the permission was granted, but none of %d datagrams sent to the relayed address came back. "+
				"Usually the server's firewall blocks its relay port range; it can also be a NAT here that gives a second socket another public address than %s.",
				t.RelayedAddr, t.RelaySent, orDash(t.MappedAddr)),
			Evidence: append(ids(cs), ids(iceFailedVia(in, k))...),
			Explains: []Cause{cause.ICEFailed},
			Facts:    map[string]string{"relayed": t.RelayedAddr, "sent": fmt.Sprint(t.RelaySent)},
		})
	}
	return out
}

// turn-untested: no credentials, so only the 401 challenge was seen.
func ruleTURNUntested(in *Input) []Finding {
	cs := filter(in.Checks, func(c probe.Result) bool {
		t := c.Details.TURN
		return c.Kind == probe.KindTURN && c.Status == probe.StatusWarn && t != nil && t.Credentials == probe.CredNone
	})
	if len(cs) == 0 {
		return nil
	}
	return []Finding{{
		Severity: SeverityWarning,
		Title:    "TURN relay not tested: no credentials given",
		Detail:   fmt.Sprintf("The TURN server answered (%s), so it is reachable, but without credentials no relay could be allocated and the media path through it is unproven.", strings.Join(targets(cs), ", ")),
		Evidence: ids(cs),
	}}
}

// iceFailedVia are the failed ICE checks that relied on the TURN server
// host: a TURN cause explains them, so their ice-failed finding folds under
// it instead of standing beside it.
func iceFailedVia(in *Input, host string) []probe.Result {
	return filter(in.Checks, func(c probe.Result) bool {
		d := c.Details.ICE
		if host == "" || c.Kind != probe.KindICE || c.Status != probe.StatusFail || d == nil {
			return false
		}
		if c.Host == host {
			return true
		}
		for _, u := range append(append([]string{}, d.Servers...), d.PeerServers...) {
			if turnURLHost(u) == host {
				return true
			}
		}
		return false
	})
}

// turnURLHost is the host of a "turn:HOST:PORT?transport=udp" URL.
func turnURLHost(u string) string {
	_, rest, ok := strings.Cut(u, ":")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "?")
	if h, _, err := net.SplitHostPort(rest); err == nil {
		return h
	}
	return rest
}

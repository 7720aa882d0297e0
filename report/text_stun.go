package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

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

// turnLines: allocation, data path and the step timings.
func turnLines(c probe.Result) []string {
	t := c.Details.TURN
	if t == nil {
		return nil
	}
	var out []string
	if t.RelayedAddr != "" {
		l := fmt.Sprintf("relay %s, mapped %s, lifetime %d s, %d/%d datagrams back through the relay",
			t.RelayedAddr, orDash(t.MappedAddr), t.LifetimeS, t.RelayReceived, t.RelaySent)
		switch t.RelayPeer {
		case "relay":
			l += fmt.Sprintf(" (echoed relay to relay via a second allocation %s: no client UDP needed)", orDash(t.PeerRelayedAddr))
		case "udp-socket":
			l += " (echoed from a second local UDP socket)"
		}
		out = append(out, l)
	}
	if t.RelayPeerError != "" {
		out = append(out, "relay-to-relay echo failed, fell back to a UDP socket: "+t.RelayPeerError)
	}
	if t.ErrorCode != 0 {
		out = append(out, fmt.Sprintf("server answered %d %s (%s credentials, user %q)", t.ErrorCode, t.ErrorReason, t.Credentials, t.Username))
	}
	if len(t.Steps) > 0 {
		order := map[string]int{"connect": 0, "challenge": 1, "allocate": 2, "peer_allocate": 3, "permission": 4, "first_relay": 5}
		keys := make([]string, 0, len(t.Steps))
		for k := range t.Steps {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return order[keys[i]] < order[keys[j]] })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %.1f", k, t.Steps[k])
		}
		out = append(out, "steps (ms): "+strings.Join(parts, ", "))
	}
	if t.NAT != nil {
		out = append(out, natLine(t.NAT))
	}
	return out
}

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

package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// The turn kind: how its evidence renders.

func init() { registerRender(probe.KindTURN, kindRender{Details: turnLines, Metrics: turnMetrics}) }

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

func turnMetrics(cs checkSamples, d probe.Details) {
	x := d.TURN
	if x == nil {
		return
	}
	for step, ms := range x.Steps {
		cs.phase(step, ms)
	}
	cs.s.add(descTURNRelay, foldSum, float64(x.RelaySent), cs.id, "sent")
	cs.s.add(descTURNRelay, foldSum, float64(x.RelayReceived), cs.id, "received")
}

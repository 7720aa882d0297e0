package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// iceChecks are the ice checks that ran with ICE evidence.
func iceChecks(in *Input) []probe.Result {
	return filter(in.Checks, func(c probe.Result) bool {
		return c.Kind == probe.KindICE && c.Status != probe.StatusSkip && c.Details.ICE != nil
	})
}

// signallingFailed: the exchange with the responder did not finish.
func signallingFailed(c probe.Result) bool {
	s := c.Details.ICE.Signalling
	return c.Status == probe.StatusFail && s != nil && s.Stage != probe.StageDone
}

// ice-signalling-failed: the responder could not be asked.
func ruleICESignalling(in *Input) []Finding {
	var out []Finding
	for _, c := range iceChecks(in) {
		if !signallingFailed(c) {
			continue
		}
		s := c.Details.ICE.Signalling
		var why string
		switch c.Class {
		case probe.ClassAuth:
			why = "The responder refused the token: give the one `ucprobe serve --token` was started with (--token or UCPROBE_TOKEN)."
		case probe.ClassProtocol:
			why = "What answers there is not a ucprobe responder (or an older one without ICE signalling)."
		case probe.ClassRefused:
			why = "Nothing listens on the responder's HTTP port: start `ucprobe serve` there, or give --responder HOST:PORT."
		case probe.ClassTimeout:
			why = "The responder did not answer in time: its HTTP port is filtered, or it hangs."
		default:
			why = "The signalling request failed (" + string(c.Class) + ")."
		}
		out = append(out, Finding{
			Severity: severityFor(c),
			Title:    "ICE signalling with the responder at " + s.URL + " failed",
			Detail:   why + " The media path was not tested. (" + c.Error + ")",
			Evidence: []string{c.ID},
			Facts:    map[string]string{"url": s.URL, "stage": string(s.Stage), "class": string(c.Class)},
		})
	}
	return out
}

// candidateCounts summarises candidates by type, e.g. "2 host, 1 srflx, 0 relay".
func candidateCounts(cs []probe.ICECandidate) (string, map[probe.CandidateType]int) {
	n := map[probe.CandidateType]int{}
	for _, c := range cs {
		n[c.Type]++
	}
	parts := []string{fmt.Sprintf("%d host", n[probe.CandidateHost]), fmt.Sprintf("%d srflx", n[probe.CandidateSrflx]), fmt.Sprintf("%d relay", n[probe.CandidateRelay])}
	if n[probe.CandidatePrflx] > 0 {
		parts = append(parts, fmt.Sprintf("%d prflx", n[probe.CandidatePrflx]))
	}
	return strings.Join(parts, ", "), n
}

// ice-failed: no candidate pair succeeded. Says which candidate types
// were missing and how the checks failed.
func ruleICEFailed(in *Input) []Finding {
	var out []Finding
	for _, c := range iceChecks(in) {
		d := c.Details.ICE
		// A relay loopback has no candidate pairs: its failures are the
		// TURN server's (the turn checks name them).
		if c.Status != probe.StatusFail || signallingFailed(c) || d.Mode == probe.ICERelayLoopback {
			continue
		}
		facts := map[string]string{"mode": string(d.Mode), "class": string(c.Class)}
		if c.Class == probe.ClassAuth && d.TURNCredentials == probe.CredNone {
			out = append(out, Finding{
				Severity: severityFor(c),
				Title:    "The " + string(d.Mode) + " ICE check needs TURN credentials",
				Detail:   "This check proves the TURN relay path and cannot run without credentials: give --turn-user and --turn-pass (or --turn-secret for TURN REST). " + c.Error,
				Evidence: []string{c.ID},
				Facts:    facts,
			})
			continue
		}
		local, ln := candidateCounts(d.LocalCandidates)
		remote, _ := candidateCounts(d.RemoteCandidates)
		var why []string
		hasSTUN := false
		for _, s := range d.Servers {
			hasSTUN = hasSTUN || strings.HasPrefix(s, "stun:") || strings.HasPrefix(s, "turn:")
		}
		if hasSTUN && d.Mode != probe.ICERelayRelay && ln[probe.CandidateSrflx] == 0 {
			why = append(why, "no server-reflexive candidate: the STUN server did not answer")
		}
		if d.RelayExpected && ln[probe.CandidateRelay] == 0 {
			w := "no relay candidate: the TURN allocation failed"
			if ids := failedTURN(in); len(ids) > 0 {
				w += " (see " + strings.Join(ids, ", ") + ")"
			}
			why = append(why, w)
		}
		if d.Mode != probe.ICETwoEnded && d.RelayExpected && len(d.RemoteCandidates) == 0 {
			why = append(why, "the relay-only peer got no relay candidate either")
		}
		answered := 0
		for _, p := range d.Pairs {
			if p.ResponsesReceived > 0 {
				answered++
			}
		}
		switch {
		case len(d.Pairs) > 0 && answered == 0:
			why = append(why, fmt.Sprintf("all %d candidate %s timed out: no connectivity check was answered", len(d.Pairs), plural(len(d.Pairs), "pair", "pairs")))
		case len(d.Pairs) > 0:
			why = append(why, fmt.Sprintf("%d of %d pairs were answered, none completed", answered, len(d.Pairs)))
		case len(d.Pairs) == 0:
			why = append(why, "no candidate pair could be formed")
		}
		detail := fmt.Sprintf("No ICE candidate pair succeeded (%s mode). Local candidates: %s; remote: %s. ", d.Mode, local, remote) +
			capitalize(strings.Join(why, "; ")) + "."
		if len(d.GatherErrors) > 0 {
			detail += " ICE said: " + d.GatherErrors[0] + "."
		}
		facts["local_candidates"], facts["remote_candidates"] = local, remote
		facts["pairs"] = fmt.Sprint(len(d.Pairs))
		remedy := ""
		if d.RelayExpected && ln[probe.CandidateRelay] == 0 && len(d.Pairs) == 0 {
			remedy = "ICE could not even get a TURN relay: check the TURN server, the credentials (--turn-user/--turn-pass or --turn-secret) and UDP/TCP 3478 to it; the turn checks name the reason."
		}
		out = append(out, Finding{
			Remedy:   remedy,
			Severity: severityFor(c),
			Title:    "ICE failed: no media path between the two ends",
			Detail:   detail,
			Evidence: []string{c.ID},
			Facts:    facts,
		})
	}
	return out
}

// failedTURN are the ids of failed turn checks (they say why TURN gave
// no relay candidate; ICE does not).
func failedTURN(in *Input) []string {
	return ids(filter(in.Checks, func(c probe.Result) bool { return c.Kind == probe.KindTURN && c.Status == probe.StatusFail }))
}

// relayOnly: the selected pair goes through a relay although the mode
// allowed a direct path. One-ended: the local end is relayed (its host
// and srflx candidates could not reach the peer's relay). Relay-relay is
// relayed by design.
func relayOnly(d *probe.ICEDetails) bool {
	s := d.Selected
	if s == nil {
		return false
	}
	switch d.Mode {
	case probe.ICETwoEnded:
		return s.Local.Type == probe.CandidateRelay || s.Remote.Type == probe.CandidateRelay
	case probe.ICEOneEnded, "":
		if s.Local.Type != probe.CandidateRelay {
			return false
		}
		for _, c := range d.LocalCandidates {
			if c.Type != probe.CandidateRelay {
				return true
			}
		}
	}
	return false
}

// relay-only: ICE connected, but only through a TURN relay.
func ruleRelayOnly(in *Input) []Finding {
	var out []Finding
	for _, c := range iceChecks(in) {
		d := c.Details.ICE
		if c.Status == probe.StatusFail || !relayOnly(d) {
			continue
		}
		var failed []string
		nFailed := 0
		for _, p := range d.Pairs {
			if p.Local.Type == probe.CandidateRelay || (d.Mode == probe.ICETwoEnded && p.Remote.Type == probe.CandidateRelay) || p.State == probe.PairSucceeded {
				continue
			}
			nFailed++
			if len(failed) < 3 {
				failed = append(failed, fmt.Sprintf("%s %s -> %s %s (%s, %d sent, %d answered)",
					p.Local.Type, hostPort(p.Local), p.Remote.Type, hostPort(p.Remote), p.State, p.RequestsSent, p.ResponsesReceived))
			}
		}
		detail := fmt.Sprintf("ICE connected through the TURN relay (%s -> %s). It works, with more latency than a direct path.",
			hostPort(d.Selected.Local), hostPort(d.Selected.Remote))
		if nFailed > 0 {
			detail += fmt.Sprintf(" %d direct %s did not succeed: %s", nFailed, plural(nFailed, "pair", "pairs"), strings.Join(failed, "; "))
			if nFailed > len(failed) {
				detail += "; ..."
			}
			detail += "."
		}
		if d.SelectedVia == "relay/tcp" || d.SelectedVia == "relay/tls" {
			detail += fmt.Sprintf(" Media runs over %s to the TURN server (%s): UDP does not get through, so every voice packet rides a TCP stream, which stalls under loss.",
				strings.ToUpper(strings.TrimPrefix(d.SelectedVia, "relay/")), d.SelectedVia)
		}
		f := Finding{
			Severity: SeverityWarning,
			Title:    "Media only connects through the TURN relay (" + d.SelectedVia + ")",
			Detail:   detail,
			Evidence: []string{c.ID},
			Facts:    map[string]string{"selected_via": d.SelectedVia, "selected": hostPort(d.Selected.Local) + " -> " + hostPort(d.Selected.Remote), "direct_failed": fmt.Sprint(nFailed)},
		}
		// A symmetric NAT here is why the direct pairs failed: the far
		// end answers the address STUN learned, which this NAT gives to
		// the STUN server only. One finding says both.
		if nat, natChecks := symmetricNAT(in); nat != nil && nFailed > 0 {
			f.Detail += fmt.Sprintf(" This network's NAT is symmetric (%s mapping): the far end cannot reach the address STUN learned, so a relay is needed.", nat.Mapping)
			f.Evidence = append(f.Evidence, natChecks...)
			f.Facts["nat_mapping"], f.Facts["nat_filtering"] = string(nat.Mapping), string(nat.Filtering)
			f.Explains = []Cause{cause.SymmetricNAT}
		}
		out = append(out, f)
	}
	return out
}

func hostPort(c probe.ICECandidate) string {
	if strings.Contains(c.Address, ":") {
		return fmt.Sprintf("[%s]:%d", c.Address, c.Port)
	}
	return fmt.Sprintf("%s:%d", c.Address, c.Port)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mediaRule builds the rule of one media figure against its limit.
func mediaRule(name, unit string, value func(*probe.MediaStats) float64, limit func(*Input) float64, path func(probe.PathRTT) float64) func(in *Input) []Finding {
	return func(in *Input) []Finding {
		max := limit(in)
		if max <= 0 {
			return nil
		}
		if path != nil && !mediaGraded(in) {
			return pathQuality(in, name, unit, path(in.Run.Path), max)
		}
		var out []Finding
		for _, c := range mediaChecks(in) {
			m := c.Details.ICE.Media
			if m == nil || m.Sent == 0 || (m.Received == 0 && name != "loss") {
				continue
			}
			v := value(m)
			if v <= max {
				continue
			}
			src := ""
			if in.Limits.Source != "" {
				src = " (" + in.Limits.Source + ")"
			}
			detail := fmt.Sprintf("Over %.1f s of voice-shaped traffic (%s, %d ms packets) %s: %s. The profile's limit is %s%s. Estimated MOS %.2f (%s).",
				m.DurationS, m.Codec, m.PacketMS, mediaPathWords(c), mediaSummary(m), fmtLimit(max, unit), src, m.MOS, m.Grade)
			f := Finding{
				Severity: SeverityWarning,
				Title:    fmt.Sprintf("%s %s over the limit of %s", capitalize(name), fmtLimit(v, unit), fmtLimit(max, unit)),
				Detail:   detail,
				Evidence: []string{c.ID},
				Facts: map[string]string{"measured": fmt.Sprintf("%.2f", v), "limit": fmt.Sprintf("%g", max),
					"mos": fmt.Sprintf("%.2f", m.MOS), "grade": m.Grade},
			}
			if in.Limits.Source != "" {
				f.Refs = []string{in.Limits.Source}
			}
			out = append(out, f)
		}
		return out
	}
}

// mediaGraded: some check measured a media stream that got answers.
func mediaGraded(in *Input) bool {
	return slices.ContainsFunc(iceChecks(in), func(c probe.Result) bool {
		m := c.Details.ICE.Media
		return m != nil && m.Sent > 0 && m.Received > 0
	})
}

// minPathSamples is how many round trips the run must have measured for
// them to stand in for a media stream.
const minPathSamples = 3

// pathQuality judges latency or jitter from the run's own round trips
// (TCP handshakes, STUN answers) when no media stream was measured: a
// slow path is a quality fact, never a block. It is weaker evidence than
// media, so it is used only without media.
func pathQuality(in *Input, name, unit string, v, max float64) []Finding {
	p := in.Run.Path
	if p.Samples < minPathSamples || v <= max {
		return nil
	}
	ev := filter(in.Checks, func(c probe.Result) bool {
		return c.Kind != probe.KindDNS && (tcpWorks(c) || c.Kind == probe.KindSTUN && c.Status == probe.StatusPass)
	})
	f := Finding{
		Severity: SeverityWarning,
		Title:    fmt.Sprintf("%s %s over the limit of %s", capitalize(name), fmtLimit(v, unit), fmtLimit(max, unit)),
		Detail: fmt.Sprintf("The %d round trips this run measured (TCP handshakes, STUN answers) have a median of %.0f ms and vary by %.0f ms from one to the next; "+
			"the profile's limit is %s. No media stream was measured, so this is the path's figure, not a call's: expect delay and jitter in calls.",
			p.Samples, p.RTTMS, p.JitterMS, fmtLimit(max, unit)),
		Evidence: ids(ev),
		Facts:    map[string]string{"measured": fmt.Sprintf("%.2f", v), "limit": fmt.Sprintf("%g", max), "source": "path", "samples": fmt.Sprint(p.Samples)},
	}
	if in.Limits.Source != "" {
		f.Refs = []string{in.Limits.Source}
	}
	return []Finding{f}
}

func fmtLimit(v float64, unit string) string {
	if unit == "%" {
		return fmt.Sprintf("%.1f %%", v)
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

// mediaChecks are the ICE checks whose media the limits judge: a relay
// loopback (client to TURN and back) only when no ICE check measured
// media end to end, which covers the whole path and is the better one.
func mediaChecks(in *Input) []probe.Result {
	cs := iceChecks(in)
	endToEnd := slices.ContainsFunc(cs, func(c probe.Result) bool {
		m := c.Details.ICE.Media
		return m != nil && m.Path == "" && m.Received > 0
	})
	return filter(cs, func(c probe.Result) bool {
		m := c.Details.ICE.Media
		return m != nil && (m.Path == "" || !endToEnd)
	})
}

// mediaPathWords says which path a stream measured.
func mediaPathWords(c probe.Result) string {
	if c.Details.ICE.Media.Path == string(probe.ICERelayLoopback) {
		return "from this client to the TURN server and back (relay loopback, " + strings.Join(c.Details.ICE.Servers, ", ") + "; no far end was needed)"
	}
	return "on the selected pair (" + c.Details.ICE.SelectedVia + ")"
}

func mediaSummary(m *probe.MediaStats) string {
	if m.Path == string(probe.ICERelayLoopback) {
		return fmt.Sprintf("RTT mean %.1f ms (p95 %.1f), jitter %.1f ms, loss %.1f %% (%d of %d came back; up and down together)",
			m.RTTMeanMS, m.RTTP95MS, m.JitterMS, m.LossPct, m.Received, m.Sent)
	}
	return fmt.Sprintf("RTT mean %.1f ms (p95 %.1f), jitter %.1f ms, loss %.1f %% (%d of %d echoed; up %.1f %%, down %.1f %%)",
		m.RTTMeanMS, m.RTTP95MS, m.JitterMS, m.LossPct, m.Received, m.Sent, m.LossUpPct, m.LossDownPct)
}

// high-latency, high-jitter, packet-loss: the media figures against the
// profile's limits.
var (
	ruleHighLatency = mediaRule("round trip", "ms", func(m *probe.MediaStats) float64 { return m.RTTMeanMS },
		func(in *Input) float64 { return in.Limits.RTTMS }, func(p probe.PathRTT) float64 { return p.RTTMS })
	ruleHighJitter = mediaRule("jitter", "ms", func(m *probe.MediaStats) float64 { return m.JitterMS },
		func(in *Input) float64 { return in.Limits.JitterMS }, func(p probe.PathRTT) float64 { return p.JitterMS })
	rulePacketLoss = mediaRule("loss", "%", func(m *probe.MediaStats) float64 { return m.LossPct },
		func(in *Input) float64 { return in.Limits.LossPct }, nil)
)

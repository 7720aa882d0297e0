package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// The ice kind: how its evidence renders.

func init() {
	registerRender(probe.KindICE, kindRender{Summary: iceSummary, Details: iceLines, Metrics: iceMetrics})
}

// iceSummary is the one or two lines under a passing ice check.
func iceSummary(c probe.Result) []string {
	d := c.Details.ICE
	if d == nil {
		return nil
	}
	out := []string{iceHeadline(d)}
	if m := d.Media; m != nil {
		out = append(out, mediaLine(m))
	}
	return out
}

func iceHeadline(d *probe.ICEDetails) string {
	local, _ := candidateCounts(d.LocalCandidates)
	remote, _ := candidateCounts(d.RemoteCandidates)
	s := string(d.Mode) + ": "
	if d.Mode == probe.ICERelayLoopback {
		return s + fmt.Sprintf("state %s in %s; this client -> %s -> back to this client (no far end)",
			cmpOrStr(d.State, "not started"), fmtDuration(d.ConnectedMS), strings.Join(d.Servers, ", "))
	}
	if d.Selected != nil {
		s += fmt.Sprintf("connected in %s via %s (%s -> %s)", fmtDuration(d.ConnectedMS), d.SelectedVia, hostPort(d.Selected.Local), hostPort(d.Selected.Remote))
	} else {
		s += "state " + cmpOrStr(d.State, "not started")
	}
	s += fmt.Sprintf("; gathering %s; candidates local %s, remote %s", fmtDuration(d.GatheringMS), local, remote)
	if d.GatherTimedOut {
		s += " (gathering cut off at its bound)"
	}
	return s
}

func mediaLine(m *probe.MediaStats) string {
	if m.Skipped != "" {
		return "media: not measured: " + m.Skipped
	}
	if m.Sent == 0 {
		return "media: not measured (the check's deadline left no time)"
	}
	s := fmt.Sprintf("media %.1f s %s/%d ms: RTT %.1f ms (p95 %.1f), jitter %.1f ms, loss %.1f%% (%d/%d) -> MOS %.2f %s",
		m.DurationS, m.Codec, m.PacketMS, m.RTTMeanMS, m.RTTP95MS, m.JitterMS, m.LossPct, m.Received, m.Sent, m.MOS, m.Grade)
	if m.Transport != "" && m.Transport != "udp" {
		s += ", over " + strings.ToUpper(m.Transport)
	}
	switch {
	case m.CutShort:
		s += " (cut short by the deadline)"
	case m.RequestedS > 0:
		s += fmt.Sprintf(" (shrunk from %.1f s to fit the run's deadline)", m.RequestedS)
	}
	return s
}

// iceLines: the headline, the pair table (one line per pair, the
// selected one marked *), the media figures and what ICE said.
func iceLines(c probe.Result) []string {
	d := c.Details.ICE
	if d == nil {
		return nil
	}
	out := []string{iceHeadline(d)}
	if s := d.Signalling; s != nil && s.Stage != probe.StageDone {
		line := fmt.Sprintf("signalling %s: stopped at %s", s.URL, s.Stage)
		if s.StatusCode != 0 {
			line += fmt.Sprintf(" (HTTP %d)", s.StatusCode)
		}
		out = append(out, line)
	}
	if len(d.Pairs) > 0 {
		out = append(out, Preformatted+fmt.Sprintf("  %-27s   %-27s %-4s %5s %s", "local", "remote", "pair", "rtt", "ok/n"))
	}
	for i, p := range d.Pairs {
		if i == maxPairRows {
			out = append(out, Preformatted+fmt.Sprintf("  ... %d more pairs (JSON has them all)", len(d.Pairs)-maxPairRows))
			break
		}
		out = append(out, Preformatted+pairRow(p))
	}
	if m := d.Media; m != nil {
		out = append(out, mediaLine(m))
	}
	for _, e := range d.GatherErrors {
		out = append(out, "ICE said: "+e)
	}
	return out
}

// pairRow is one pair in 76 columns (80 with the indent): mark (*
// selected, n nominated), local and remote type and address, state, RTT
// in ms, answers/requests.
func pairRow(p probe.ICEPair) string {
	mark := " "
	if p.Selected {
		mark = "*"
	} else if p.Nominated {
		mark = "n"
	}
	rtt := "-"
	if p.RTTMS > 0 {
		rtt = fmt.Sprintf("%.1f", p.RTTMS)
	}
	return fmt.Sprintf("%s %-5s %-21s > %-5s %-21s %-4s %5s %s", mark, clip(pairCandType(p.Local), 5), clip(hostPort(p.Local), 21),
		clip(pairCandType(p.Remote), 5), clip(hostPort(p.Remote), 21), shortState(p.State), rtt,
		clip(fmt.Sprintf("%d/%d", p.ResponsesReceived, p.RequestsSent), 5))
}

// pairCandType is the type, with the relay's transport when it is not UDP.
func pairCandType(c probe.ICECandidate) string {
	if c.Type == probe.CandidateRelay && c.RelayProtocol != "" && c.RelayProtocol != "udp" {
		return "rly/" + c.RelayProtocol[:1]
	}
	return string(c.Type)
}

func shortState(s probe.PairState) string {
	switch s {
	case probe.PairSucceeded:
		return "ok"
	case probe.PairInProgress:
		return "try"
	case probe.PairFailed:
		return "fail"
	case probe.PairWaiting:
		return "wait"
	}
	return clip(string(s), 4)
}

func iceMetrics(cs checkSamples, d probe.Details) {
	x := d.ICE
	if x == nil {
		return
	}
	cs.phase("gathering", x.GatheringMS)
	cs.phase("connect", x.ConnectedMS)
	cs.s.add(descICEConnected, foldMin, b2f(x.State == "connected" || x.State == "completed"), cs.id)
	if p := x.Selected; p != nil {
		cs.s.add(descICEPair, foldMax, 1, cs.id, candType(p.Local.Type), candType(p.Remote.Type))
	}
	if m := x.Media; m != nil && (m.Sent > 0 || m.DurationS > 0) {
		cs.s.add(descMediaLoss, foldMax, m.LossPct/100, cs.id)
		cs.s.add(descMediaJitter, foldMax, msToS(m.JitterMS), cs.id)
		cs.s.add(descMediaRTT, foldMax, msToS(m.RTTMeanMS), cs.id)
		cs.s.add(descMediaRTTP95, foldMax, msToS(m.RTTP95MS), cs.id)
		if m.MOS > 0 {
			cs.s.add(descMOS, foldMin, m.MOS, cs.id)
		}
	}
}

// maxPairRows caps the pair table in the text report (JSON has them all).
const maxPairRows = 12

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

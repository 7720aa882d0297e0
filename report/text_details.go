package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/probe"
)

// detailRenderers add a kind's key evidence under its row in the checks
// table (always for failures, for every check with --verbose).
var detailRenderers = map[probe.Kind]func(probe.Result) []string{
	probe.KindDNS:       dnsLines,
	probe.KindTLS:       tlsLines,
	probe.KindWebSocket: wsLines,
	probe.KindSTUN:      stunLines,
	probe.KindTURN:      turnLines,
	probe.KindSIP:       sipLines,
	probe.KindICE:       iceLines,
	probe.KindUDPRange:  udpRangeLines,
}

// summaryRenderers add a short line under a passing check's row even
// without --verbose (the figures people run the check for).
var summaryRenderers = map[probe.Kind]func(probe.Result) []string{
	probe.KindICE:      iceSummary,
	probe.KindUDPRange: udpRangeSummary,
}

// Preformatted starts a detail line that is printed as is (a table row)
// instead of being wrapped.
const Preformatted = "\x00pre:"

func summaryLines(c probe.Result) []string {
	if f := summaryRenderers[c.Kind]; f != nil {
		return f(c)
	}
	return nil
}

func detailLines(c probe.Result) []string {
	if f := detailRenderers[c.Kind]; f != nil {
		return f(c)
	}
	return nil
}

func dnsLines(c probe.Result) []string {
	d := c.Details.DNS
	if d == nil || c.Status == probe.StatusFail {
		return nil
	}
	return []string{fmt.Sprintf("A %v AAAA %v", d.A, d.AAAA)}
}

func tlsLines(c probe.Result) []string {
	t := c.Details.TLS
	if t == nil || t.Version == "" {
		return nil
	}
	return []string{fmt.Sprintf("%s %s, issuer %q, valid %d more days", t.Version, t.CipherSuite, t.Issuer, t.DaysLeft)}
}

func wsLines(c probe.Result) []string {
	w := c.Details.WebSocket
	if w == nil {
		return nil
	}
	s := fmt.Sprintf("%s: reached stage %s", w.URL, w.Stage)
	if w.StatusCode != 0 {
		s += fmt.Sprintf(", answer %q", w.Status)
	}
	if w.Proxy != "" {
		s += ", via proxy " + w.Proxy
	}
	return []string{s}
}

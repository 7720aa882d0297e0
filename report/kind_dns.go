package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/probe"
)

// The dns kind: how its evidence renders.

func init() { registerRender(probe.KindDNS, kindRender{Details: dnsLines, Metrics: dnsMetrics}) }

func dnsLines(c probe.Result) []string {
	d := c.Details.DNS
	if d == nil || c.Status == probe.StatusFail {
		return nil
	}
	return []string{fmt.Sprintf("A %v AAAA %v", d.A, d.AAAA)}
}

func dnsMetrics(cs checkSamples, d probe.Details) {
	if x := d.DNS; x != nil {
		cs.phase("resolve_a", x.AMS)
		cs.phase("resolve_aaaa", x.AAAAMS)
	}
}

package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/probe"
)

// The tls kind: how its evidence renders.

func init() { registerRender(probe.KindTLS, kindRender{Details: tlsLines, Metrics: tlsMetrics}) }

func tlsLines(c probe.Result) []string {
	t := c.Details.TLS
	if t == nil || t.Version == "" {
		return nil
	}
	return []string{fmt.Sprintf("%s %s, issuer %q, valid %d more days", t.Version, t.CipherSuite, t.Issuer, t.DaysLeft)}
}

func tlsMetrics(cs checkSamples, d probe.Details) {
	if x := d.TLS; x != nil {
		cs.phase("handshake", x.HandshakeMS)
		cs.tlsExpiry(x)
	}
}

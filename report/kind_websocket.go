package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/probe"
)

// The websocket kind: how its evidence renders.

func init() { registerRender(probe.KindWebSocket, kindRender{Details: wsLines, Metrics: wsMetrics}) }

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

func wsMetrics(cs checkSamples, d probe.Details) {
	if x := d.WebSocket; x != nil {
		cs.phase("upgrade", x.UpgradeMS)
		if x.TLS != nil {
			cs.phase("handshake", x.TLS.HandshakeMS)
			cs.tlsExpiry(x.TLS)
		}
	}
}

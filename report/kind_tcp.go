package report

import (
	"github.com/ucprobe/ucprobe/probe"
)

// The tcp kind: how its evidence renders (its failures speak through the
// error class; no detail lines).

func init() { registerRender(probe.KindTCP, kindRender{Metrics: tcpMetrics}) }

func tcpMetrics(cs checkSamples, d probe.Details) {
	if x := d.TCP; x != nil {
		cs.phase("connect", x.ConnectMS)
	}
}

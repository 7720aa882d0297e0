package ice

import (
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// echo is one packet that came back: when it left (since the window's
// start), its round trip and the stream's jitter after it.
type echo struct {
	seq      uint16
	sentNS   int64
	rttMS    float64
	jitterMS float64
}

// seriesPoints bounds how many intervals a window is cut into: enough for
// a chart, few enough for a report.
const seriesPoints = 40

// mediaSeries cuts the window into equal intervals by send time (at least
// one packet interval long) and gives each its loss, mean round trip and
// the jitter estimate at its end, so the report can chart how the path
// behaved over the window, not only its averages.
func mediaSeries(echoes []echo, sent int, packet, window time.Duration) []probe.MediaInterval {
	if sent == 0 || packet <= 0 {
		return nil
	}
	step := max(packet, window/seriesPoints)
	perStep := max(int((step+packet-1)/packet), 1)
	n := (sent + perStep - 1) / perStep
	out := make([]probe.MediaInterval, n)
	sums := make([]float64, n)
	for i := range out {
		out[i].StartS = round(float64(i*perStep)*packet.Seconds(), 3)
		out[i].Sent = min(perStep, sent-i*perStep)
	}
	for _, e := range echoes {
		i := int(e.seq) / perStep
		if i >= n {
			continue
		}
		out[i].Received++
		sums[i] += e.rttMS
		out[i].JitterMS = round(e.jitterMS, 2) // echoes come in send order, mostly
	}
	for i := range out {
		if out[i].Received > 0 {
			out[i].RTTMeanMS = round(sums[i]/float64(out[i].Received), 2)
		}
		out[i].LossPct = round(100*float64(out[i].Sent-min(out[i].Received, out[i].Sent))/float64(out[i].Sent), 2)
	}
	return out
}

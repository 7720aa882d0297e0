package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// mediaChart draws round trip and jitter as lines and loss as bars over
// the media window, in the SVG's 0-1000 x 0-200 space (y grows down).
type mediaChart struct {
	RTT, Jitter string // polyline points
	Loss        []chartBar
	MaxMS       string // the top of the y axis, e.g. "120 ms"
	Seconds     string // the length of the x axis
}

type chartBar struct {
	X, W, Y, H float64
	Label      string
}

const chartW, chartH = 1000.0, 200.0

func newMediaChart(m *probe.MediaStats) *mediaChart {
	if m == nil || len(m.Series) < 2 {
		return nil
	}
	top := 1.0
	for _, iv := range m.Series {
		top = max(top, iv.RTTMeanMS, iv.JitterMS)
	}
	top = niceCeil(top)
	last := m.Series[len(m.Series)-1]
	span := max(last.StartS+last.StartS/float64(len(m.Series)-1), 0.001)
	x := func(s float64) float64 { return s / span * chartW }
	y := func(ms float64) float64 { return chartH - ms/top*chartH }
	var rtt, jit []string
	c := &mediaChart{MaxMS: fmt.Sprintf("%g ms", top), Seconds: fmt.Sprintf("%.1f s", span)}
	w := chartW / float64(len(m.Series))
	for _, iv := range m.Series {
		px := x(iv.StartS) + w/2
		if iv.Received > 0 {
			rtt = append(rtt, fmt.Sprintf("%.1f,%.1f", px, y(iv.RTTMeanMS)))
		}
		jit = append(jit, fmt.Sprintf("%.1f,%.1f", px, y(iv.JitterMS)))
		if iv.LossPct > 0 {
			h := iv.LossPct / 100 * chartH
			c.Loss = append(c.Loss, chartBar{X: x(iv.StartS), W: w * 0.9, Y: chartH - h, H: h,
				Label: fmt.Sprintf("%.1f s: %.0f %% lost (%d of %d)", iv.StartS, iv.LossPct, iv.Sent-iv.Received, iv.Sent)})
		}
	}
	c.RTT, c.Jitter = strings.Join(rtt, " "), strings.Join(jit, " ")
	return c
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, for an axis.
func niceCeil(v float64) float64 {
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= v {
			return f * p
		}
	}
	return 10 * p
}

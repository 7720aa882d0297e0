package report

import (
	"github.com/ucprobe/ucprobe/probe"
)

// kindRender is how a kind's evidence renders, registered from the kind's
// own file (kind_*.go): Summary lines under a passing check's row even
// without --verbose (the figures people run the check for), Details
// under a failing one (and every one with --verbose), Metrics for the
// Prometheus exposition. Each may be nil.
type kindRender struct {
	Summary func(probe.Result) []string
	Details func(probe.Result) []string
	Metrics func(checkSamples, probe.Details)
}

var renders = map[probe.Kind]kindRender{}

func registerRender(k probe.Kind, r kindRender) {
	if _, dup := renders[k]; dup {
		panic("report: render of kind " + string(k) + " registered twice")
	}
	renders[k] = r
}

// Preformatted starts a detail line that is printed as is (a table row)
// instead of being wrapped.
const Preformatted = "\x00pre:"

func summaryLines(c probe.Result) []string {
	if f := renders[c.Kind].Summary; f != nil {
		return f(c)
	}
	return nil
}

func detailLines(c probe.Result) []string {
	if f := renders[c.Kind].Details; f != nil {
		return f(c)
	}
	return nil
}

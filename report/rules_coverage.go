package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// untested: a verdict of "ok" must not hide that the media path was never
// tested. Required checks skipped for want of a responder are named in an
// info finding (it does not change the verdict).
func ruleUntested(in *Input) []Finding {
	cs := filter(in.Checks, func(c probe.Result) bool {
		return c.Status == probe.StatusSkip && c.Details.SkipReason == probe.SkipNoResponder && !c.Optional ||
			liveInconclusive(c)
	})
	if len(cs) == 0 {
		return nil
	}
	var what []string
	for _, c := range cs {
		t := c.Title
		if t == "" {
			t = string(c.Kind) + " " + c.Target
		}
		what = append(what, t)
	}
	return []Finding{{
		Severity: SeverityInfo,
		Title:    fmt.Sprintf("%d %s not tested: no responder at the far end", len(cs), plural(len(cs), "check", "checks")),
		Detail:   "UDP reachability of a media range cannot be proven from one end. Not tested: " + strings.Join(what, "; ") + "." + liveUntestedWords(cs),
		Evidence: ids(cs),
	}}
}

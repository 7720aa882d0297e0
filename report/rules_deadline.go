package report

import (
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// CauseCutShort: required checks did not finish before the run's deadline
// (or Ctrl-C). Their silence is no evidence, so they are not judged; but
// an "ok" must not hide that they never finished.
const CauseCutShort Cause = "cut-short"

func init() {
	Catalog[CauseCutShort] = CauseInfo{"checks did not finish before the run's deadline, so they were not judged",
		"Run again with a longer --timeout (the whole run's deadline), or fewer checks."}
}

// cut-short: a warning naming the required checks the deadline cut off.
func ruleCutShort(in *Input) []Finding {
	cut := filter(in.Checks, func(c probe.Result) bool {
		return c.Status == probe.StatusSkip && c.Class == probe.ClassCanceled && !c.Optional
	})
	if len(cut) == 0 {
		return nil
	}
	finished := len(filter(in.Checks, func(c probe.Result) bool {
		return c.Kind != probe.KindDNS && c.Status != probe.StatusSkip
	}))
	title := fmt.Sprintf("%d %s cut short by the deadline", len(cut), plural(len(cut), "check was", "checks were"))
	if finished == 0 {
		title = "Nothing was tested: every check was cut short by the deadline"
	}
	return []Finding{{
		Severity: SeverityWarning,
		Title:    title,
		Detail: fmt.Sprintf("These checks did not finish before the run ended, so they prove nothing either way: %s.",
			strings.Join(ids(cut), ", ")),
		Evidence: ids(cut),
		Facts:    map[string]string{"finished": fmt.Sprint(finished), "cut": fmt.Sprint(len(cut))},
	}}
}

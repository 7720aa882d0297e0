package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// cut-short: a warning naming the required checks the run's end cut off,
// and why: Ctrl-C (interrupted), or a deadline below the least one a
// diagnosis needs (named, so the user knows what to give).
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
	run := in.Run
	facts := map[string]string{"finished": fmt.Sprint(finished), "cut": fmt.Sprint(len(cut))}
	if run.MinDeadline > 0 {
		facts["min_deadline"] = run.MinDeadline.String()
	}
	if run.Deadline > 0 {
		facts["deadline"] = run.Deadline.String()
	}
	why, title := "by the deadline", ""
	switch {
	case run.Interrupted:
		why = "because the run was interrupted"
		facts["interrupted"] = "true"
	case run.Deadline > 0 && run.MinDeadline > run.Deadline:
		why = fmt.Sprintf("by the deadline: --timeout %s is below the %s a diagnosis needs", run.Deadline, run.MinDeadline)
	}
	title = fmt.Sprintf("%d %s cut short %s", len(cut), plural(len(cut), "check was", "checks were"), why)
	if finished == 0 {
		title = "Nothing was tested: every check was cut short " + why
	}
	detail := fmt.Sprintf("These checks did not finish before the run ended, so they prove nothing either way: %s.",
		strings.Join(ids(cut), ", "))
	if !run.Interrupted && run.MinDeadline > 0 {
		detail += fmt.Sprintf(" Run again with --timeout %s or more.", max(run.MinDeadline, run.Deadline*2).Round(time.Second))
	}
	return []Finding{{
		Severity: SeverityWarning,
		Title:    title,
		Detail:   detail,
		Evidence: ids(cut),
		Facts:    facts,
	}}
}

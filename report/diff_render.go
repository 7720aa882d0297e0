package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteDiffJSON writes the comparison as indented JSON (schema
// ucprobe/diff/v1).
func WriteDiffJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteDiffText writes the comparison for people: the headline, then
// every change, worse first.
func WriteDiffText(w io.Writer, d *Diff) error {
	t := &textWriter{w: w, width: 80}
	t.printf("ucprobe diff %s: %s (%s) -> %s (%s)\n\n", d.Profile,
		d.Old.Started.UTC().Format("2006-01-02 15:04 MST"), d.Old.Verdict, d.New.Started.UTC().Format("2006-01-02 15:04 MST"), d.New.Verdict)
	t.wrap("", d.Headline)
	t.diffChanges("Changes", d.Changes)
	return t.err
}

func (t *textWriter) diffChanges(title string, cs []Change) {
	if len(cs) == 0 {
		return
	}
	t.printf("\n%s\n", title)
	for _, trend := range []Trend{TrendWorse, TrendChanged, TrendBetter} {
		for _, c := range cs {
			if c.Trend != trend {
				continue
			}
			line := c.Summary
			if len(c.Checks) > 0 && c.Kind != ChangeCheck {
				line += " (" + strings.Join(c.Checks, ", ") + ")"
			}
			t.wrap(fmt.Sprintf("  %-8s", string(c.Trend)+":"), line)
		}
	}
}

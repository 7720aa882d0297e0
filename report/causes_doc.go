package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/profiles"
)

// WriteCauseDocs writes docs/causes.md from the cause catalog: every cause
// the diagnosis can name, what it means, how the report says it to a
// caller, the default remedy and which profiles quote their vendor for it.
// The alert rules' runbook_url points at its anchors. Regenerate with
// `go generate ./report`; a test fails when the file is stale.
func WriteCauseDocs(w io.Writer) error {
	all, err := profiles.List()
	if err != nil {
		return err
	}
	ids := cause.IDs()
	var b strings.Builder
	b.WriteString("# Causes\n\n<!-- Generated from the cause catalog (package cause) by `go generate ./report`. Do not edit. -->\n\n")
	b.WriteString("Every cause ucprobe can name, in the order of its id. The report's headline is the root cause;\n")
	b.WriteString("what it explains is folded into it. Severity depends on the check (a required check's failure\n")
	b.WriteString("is critical, an optional one's a warning); `untested` is always informational.\n\n")
	for _, id := range ids {
		info, _ := cause.Of(id)
		fmt.Fprintf(&b, "## `%s`\n\n%s.\n\n", id, capitalize(info.Meaning))
		if say := info.Plain; say != "" {
			fmt.Fprintf(&b, "In plain words: %s\n\n", say)
		}
		fmt.Fprintf(&b, "What to do (default): %s\n", info.Remedy)
		var quoted []string
		for _, p := range all {
			if _, ok := p.Remedies[string(id)]; ok {
				quoted = append(quoted, "`"+p.ID+"`")
			}
		}
		if len(quoted) > 0 {
			fmt.Fprintf(&b, "\nVendor remedy in: %s.\n", strings.Join(quoted, ", "))
		}
		b.WriteString("\n")
	}
	_, err = io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

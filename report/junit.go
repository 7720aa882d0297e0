package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// JUnit XML, as acceptance-test collectors (Jenkins, GitLab, Azure
// DevOps) read it: one testcase per check; a failed check is a failure
// carrying the cause and the remedy; a skipped check says why.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitSkipped says why a check did not run: Type is its typed reason
// (probe.SkipReason, JSON skip_reason), as the common JUnit schema
// (Jenkins xunit's junit-10.xsd) allows on skipped next to message.
type junitSkipped struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *Report) error {
	r = Sanitize(r)
	s := junitSuite{
		Name:      "ucprobe " + r.Profile,
		Time:      seconds(r.DurationMS),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{"profile", r.Profile}, {"product", r.Product}, {"verdict", string(r.Verdict)}, {"ucprobe_version", r.Version},
		},
	}
	for _, k := range sortedKeys(r.Variables) {
		s.Properties = append(s.Properties, junitProperty{"var." + k, r.Variables[k]})
	}
	for _, k := range sortedKeys(r.Labels) {
		s.Properties = append(s.Properties, junitProperty{"label." + k, r.Labels[k]})
	}
	for _, c := range r.Checks {
		s.Cases = append(s.Cases, junitCaseOf(r, c))
		s.Tests++
		switch c.Status {
		case probe.StatusFail:
			s.Failures++
		case probe.StatusSkip:
			s.Skipped++
		}
	}
	doc := junitSuites{Name: s.Name, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitCaseOf(r *Report, c probe.Result) junitCase {
	tc := junitCase{Name: c.ID, Classname: "ucprobe." + r.Profile + "." + string(c.Kind), Time: seconds(c.DurationMS)}
	if c.Title != "" {
		tc.Name = c.ID + ": " + c.Title
	}
	f := findingFor(r, c.ID)
	switch c.Status {
	case probe.StatusSkip:
		tc.Skipped = &junitSkipped{Message: c.Details.Skipped, Type: string(c.Details.SkipReason)}
		if tc.Skipped.Message == "" {
			tc.Skipped.Message = c.Error
		}
	case probe.StatusFail:
		tc.Failure = &junitFailure{Type: string(probe.ClassNone), Message: describe(c), Text: describe(c)}
		if c.Class != "" {
			tc.Failure.Type = string(c.Class)
		}
		if f != nil {
			tc.Failure.Type = string(f.Cause)
			tc.Failure.Message = fmt.Sprintf("%s: %s", f.Cause, f.Title)
			tc.Failure.Text = findingText(f, describe(c))
		}
	case probe.StatusWarn:
		tc.SystemOut = "warning: " + describe(c)
		if f != nil {
			tc.SystemOut = "warning: " + findingText(f, describe(c))
		}
	}
	return tc
}

// findingFor is the finding that cites the check, root cause first.
func findingFor(r *Report, id string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Severity != SeverityInfo && slices.Contains(r.Findings[i].Evidence, id) {
			return &r.Findings[i]
		}
	}
	return nil
}

func findingText(f *Finding, check string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n%s\nWhat to do: %s\n", f.Cause, f.Severity, f.Title, f.Detail, f.Remedy)
	if f.Quote != "" {
		fmt.Fprintf(&b, "Vendor says: %q\n", f.Quote)
	}
	if len(f.Refs) > 0 {
		fmt.Fprintf(&b, "Source: %s\n", strings.Join(f.Refs, "; "))
	}
	fmt.Fprintf(&b, "Check: %s\n", check)
	return b.String()
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

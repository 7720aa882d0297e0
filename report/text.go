package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/probe"
)

// TextOptions shape the text report.
type TextOptions struct {
	// Color adds ANSI colours; the caller decides (a terminal, no NO_COLOR).
	Color bool
	// Verbose adds the environment and every check's details.
	Verbose bool
	// Width wraps prose; 0 means 80.
	Width int
}

type textWriter struct {
	w     io.Writer
	opt   TextOptions
	width int
	err   error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

func (t *textWriter) paint(code, s string) string {
	if !t.opt.Color {
		return s
	}
	return code + s + ansiReset
}

// WriteText writes the report for people: the verdict, the root cause in
// plain words with the vendor's remedy, then the checks table; verbose adds
// the environment. It fits 80 columns.
func WriteText(w io.Writer, r *Report, opt TextOptions) error {
	r = Sanitize(r)
	t := &textWriter{w: w, opt: opt, width: opt.Width}
	if t.width <= 0 {
		t.width = 80
	}
	product := ""
	if r.Product != "" {
		product = " (" + r.Product + ")"
	}
	t.printf("ucprobe %s%s\n", r.Profile, product)
	t.printf("%s, %s\n\n", r.Started.Format("2006-01-02 15:04:05 MST"), fmtDuration(r.DurationMS))
	t.printf("Verdict: %s%s\n", t.verdict(r.Verdict), t.counts(r.Findings))
	if h := r.Headline(); h != nil && h.Severity != SeverityInfo {
		in, _ := cause.Of(h.Cause)
		say := in.Plain
		if say == "" {
			say = h.Title + "."
		}
		t.printf("\n")
		t.wrap("In plain words: ", say)
	}
	if d := r.Baseline; d != nil {
		t.printf("\n")
		t.wrap("Changed: ", d.Headline)
	}
	for i, f := range r.Findings {
		t.printf("\n")
		t.finding(f, i == 0)
	}
	if len(r.Findings) == 0 {
		t.printf("\nAll checks that ran passed.\n")
	}
	t.printf("\nChecks\n")
	for _, c := range r.Checks {
		t.check(c)
	}
	if d := r.Baseline; d != nil && len(d.Changes) > 0 {
		t.diffChanges("Changes since the baseline of "+d.Old.Started.UTC().Format("2006-01-02 15:04 MST"), d.Changes)
	}
	if opt.Verbose {
		t.environment(r.Environment)
	}
	return t.err
}

func (t *textWriter) verdict(v Verdict) string {
	switch v {
	case VerdictOK:
		return t.paint(ansiBold+ansiGreen, "OK")
	case VerdictDegraded:
		return t.paint(ansiBold+ansiYellow, "DEGRADED")
	}
	return t.paint(ansiBold+ansiRed, "FAILED")
}

func (t *textWriter) counts(fs []Finding) string {
	n := map[Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	var parts []string
	if c := n[SeverityCritical]; c > 0 {
		parts = append(parts, fmt.Sprintf("%d critical", c))
	}
	if c := n[SeverityWarning]; c > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", c, plural(c, "warning", "warnings")))
	}
	if c := n[SeverityInfo]; c > 0 {
		parts = append(parts, fmt.Sprintf("%d info", c))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (t *textWriter) finding(f Finding, headline bool) {
	sev := strings.ToUpper(string(f.Severity))
	switch f.Severity {
	case SeverityCritical:
		sev = t.paint(ansiBold+ansiRed, sev)
	case SeverityWarning:
		sev = t.paint(ansiBold+ansiYellow, sev)
	}
	label := ""
	if headline && f.Severity != SeverityInfo {
		label = "Cause: "
	}
	t.printf("%s%s %s\n", label, sev, t.paint(ansiBold, string(f.Cause)))
	t.wrap("  ", f.Title)
	t.wrap("  ", f.Detail)
	for _, fo := range f.Folded {
		t.wrap("  Also explains: ", fo.Title+" ("+string(fo.Cause)+")")
	}
	if f.Remedy != "" {
		t.wrap("  What to do: ", f.Remedy)
	}
	if f.Quote != "" {
		t.wrap("  Vendor says: ", "\""+f.Quote+"\"")
	}
	if len(f.Refs) > 0 {
		t.wrap("  Source: ", strings.Join(f.Refs, ", "))
	}
	t.wrap("  Evidence: ", strings.Join(f.Evidence, ", "))
}

// wrap writes text after a prefix, wrapped to the width, continuation
// lines indented like the prefix's first two columns plus two.
func (t *textWriter) wrap(prefix, text string) {
	if text == "" {
		return
	}
	indent := strings.Repeat(" ", min(len(prefix), 4))
	if strings.TrimSpace(prefix) == "" {
		indent = prefix
	}
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > t.width && strings.TrimSpace(line) != strings.TrimSpace(prefix) {
			t.printf("%s\n", line)
			line = indent + word
			continue
		}
		if line == prefix || line == indent {
			line += word
		} else {
			line += " " + word
		}
	}
	t.printf("%s\n", line)
}

func (t *textWriter) check(c probe.Result) {
	mark := map[probe.Status]string{
		probe.StatusPass: t.paint(ansiGreen, "pass"),
		probe.StatusWarn: t.paint(ansiYellow, "warn"),
		probe.StatusFail: t.paint(ansiRed, "FAIL"),
		probe.StatusSkip: t.paint(ansiDim, "skip"),
	}[c.Status]
	target := c.Target
	if c.Address != "" && !strings.Contains(target, c.Address) {
		target += " " + c.Address
	}
	dur := ""
	if c.Status != probe.StatusSkip {
		dur = fmtDuration(c.DurationMS)
	}
	result := resultText(c)
	line := fmt.Sprintf("  %s %-18s %-26s %8s", mark, clip(c.ID, 18), clip(target, 26), dur)
	t.printf("%s\n", strings.TrimRight(line, " "))
	if result != "" {
		t.wrap("       ", result)
	}
	lines := summaryLines(c)
	if t.opt.Verbose || c.Status != probe.StatusPass {
		lines = detailLines(c)
	}
	for _, l := range lines {
		if pre, ok := strings.CutPrefix(l, Preformatted); ok {
			t.printf("    %s\n", pre) // a table row: keep its columns
			continue
		}
		t.wrap("       ", l)
	}
}

func resultText(c probe.Result) string {
	switch {
	case c.Status == probe.StatusSkip:
		return c.Error
	case c.Class != "" && c.Error != "":
		return string(c.Class) + ": " + c.Error
	case c.Error != "":
		return c.Error
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "~"
}

func fmtDuration(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", ms)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.2f s", ms/1000)
}

func (t *textWriter) environment(env probe.Environment) {
	t.printf("\nEnvironment\n")
	vpn := "no VPN is up"
	if env.VPN.Up {
		vpn = "VPN up: " + strings.Join(env.VPN.Interfaces, ", ")
	}
	fams := map[bool]string{true: "yes", false: "no"}
	t.wrap("  ", fmt.Sprintf("%s; IPv4 %s, IPv6 %s", vpn, fams[env.IPv4], fams[env.IPv6]))
	for _, i := range env.Interfaces {
		state := "down"
		switch {
		case i.Up && i.Running:
			state = "up"
		case i.Up:
			state = "up, no carrier"
		}
		kind := string(i.Kind)
		if i.VPN {
			kind += ", VPN (" + i.VPNHow + ")"
		}
		addrs := strings.Join(i.Addrs, " ")
		if addrs == "" {
			addrs = "no addresses"
		}
		t.wrap("  ", fmt.Sprintf("%s: %s, %s, mtu %d, %s", i.Name, kind, state, i.MTU, addrs))
	}
	for _, r := range env.DefaultRoutes {
		t.wrap("  ", "default route "+r.Family+": "+routeText(r))
	}
	for _, r := range env.Routes {
		t.wrap("  ", "route to "+r.Destination+": "+routeText(r))
	}
	for _, n := range env.Names {
		var parts []string
		for _, a := range n.Addrs {
			parts = append(parts, a.Addr+" ("+a.Scope+")")
		}
		line := n.Name + " resolves to " + strings.Join(parts, ", ")
		if n.Mixed {
			line += "; private and public addresses mixed"
		}
		t.wrap("  ", line)
	}
	if n := env.NAT; n != nil {
		line := "NAT: mapping " + string(n.Mapping)
		if n.Filtering != "" {
			line += ", filtering " + string(n.Filtering)
		}
		if n.Method != "" {
			line += " (" + string(n.Method) + ")"
		}
		if n.Undetermined != "" {
			line += "; not determined: " + n.Undetermined
		}
		if n.PublicAddr != "" {
			line += ", public address " + n.PublicAddr
		}
		t.wrap("  ", line)
	}
	if env.Proxy.HTTPSProxy != "" {
		t.wrap("  ", "HTTPS proxy: "+env.Proxy.HTTPSProxy+" (no_proxy: "+env.Proxy.NoProxy+")")
	}
	for _, u := range env.Unknown {
		t.wrap("  Not determined: ", u)
	}
}

// routeText is one route in words.
func routeText(r probe.Route) string {
	if r.NoRoute {
		return "none (this client has no route)"
	}
	s := "dev " + r.Interface
	if r.Interface == "" {
		s = "interface unknown"
	}
	if r.Source != "" {
		s += " src " + r.Source
	}
	if r.Gateway != "" {
		s += " via " + r.Gateway
	} else if r.Destination != "default" && r.How == "netlink" {
		s += " (directly connected)"
	}
	if r.MTU != 0 {
		s += fmt.Sprintf(", mtu %d", r.MTU)
	}
	if r.ViaVPN {
		s += ", through the VPN"
	}
	return s
}

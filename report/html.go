package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/probe"
)

//go:embed html.tmpl
var htmlTemplate string

//go:embed html.css
var htmlCSS string

// htmlTmpl is parsed on first use: a run that writes text or JSON pays
// nothing for it at start-up.
var htmlTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"duration": fmtDuration,
		"upper":    strings.ToUpper,
	}).Parse(htmlTemplate))
})

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and SVG, no scripts, no external requests (its Content-Security-Policy
// forbids them), readable when printed. It shows what the JSON holds.
func WriteHTML(w io.Writer, r *Report) error {
	return htmlTmpl().Execute(w, htmlView(Sanitize(r)))
}

type htmlPage struct {
	R        *Report
	CSS      template.CSS
	CSP      string
	Labels   []htmlLabel
	Plain    string
	Headline *Finding
	Others   []Finding
	Counts   string
	PortMaps []portMap
	ICE      []htmlICE
	Checks   []htmlCheck
	Env      []string
}

type htmlLabel struct{ Key, Value string }

type htmlICE struct {
	ID      string
	D       *probe.ICEDetails
	Summary []string
	Chart   *mediaChart
	// Loopback: media looped through this client's own relay (no far end).
	Loopback bool
}

type htmlCheck struct {
	C     probe.Result
	Lines []string
	// Section is the anchor of the check's own section (port map, ICE),
	// which shows its details instead of the table.
	Section string
}

func htmlView(r *Report) htmlPage {
	sum := sha256.Sum256([]byte(htmlCSS))
	p := htmlPage{
		R:   r,
		CSS: template.CSS(htmlCSS),
		CSP: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; form-action 'none'; base-uri 'none'",
	}
	for k, v := range r.Labels {
		p.Labels = append(p.Labels, htmlLabel{k, v})
	}
	sort.Slice(p.Labels, func(i, j int) bool { return p.Labels[i].Key < p.Labels[j].Key })
	if h := r.Headline(); h != nil {
		if h.Severity != SeverityInfo {
			p.Headline = h
			in, _ := cause.Of(h.Cause)
			p.Plain = in.Plain
			p.Others = r.Findings[1:]
		} else {
			p.Others = r.Findings
		}
	}
	p.Counts = strings.TrimSuffix(strings.TrimPrefix((&textWriter{}).counts(r.Findings), " ("), ")")
	for _, c := range r.Checks {
		row := htmlCheck{C: c}
		if m, ok := newPortMap(c); ok {
			p.PortMaps = append(p.PortMaps, m)
			row.Section = "portmap-" + c.ID
		}
		if d := c.Details.ICE; d != nil && c.Status != probe.StatusSkip {
			p.ICE = append(p.ICE, htmlICE{ID: c.ID, D: d, Summary: iceSummary(c), Chart: newMediaChart(d.Media), Loopback: d.Mode == probe.ICERelayLoopback})
			row.Section = "ice-" + c.ID
		}
		if row.Section == "" {
			for _, l := range detailLines(c) {
				row.Lines = append(row.Lines, strings.TrimPrefix(l, Preformatted))
			}
		}
		p.Checks = append(p.Checks, row)
	}
	p.Env = envLines(r.Environment)
	return p
}

// envLines is the environment in the text report's words.
func envLines(env probe.Environment) []string {
	var sb strings.Builder
	t := &textWriter{w: &sb, width: 1 << 20}
	t.environment(env)
	var out []string
	for _, l := range strings.Split(sb.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && l != "Environment" {
			out = append(out, l)
		}
	}
	return out
}

// portMap is one swept range drawn as a strip of coloured sub-ranges.
type portMap struct {
	ID, Target, Summary string
	Segments            []portSegment
	Legend              []portLegend
}

type portSegment struct {
	X, W  float64 // in the SVG's 0-1000 coordinate space
	Class string
	Label string
}

type portLegend struct {
	Class, Name string
	Ports       int
}

const portMapWidth = 1000.0

func newPortMap(c probe.Result) (portMap, bool) {
	d := c.Details.UDPRange
	if d == nil || len(d.SubRanges) == 0 {
		return portMap{}, false
	}
	lo, hi := d.SubRanges[0].Range.First, d.SubRanges[0].Range.Last
	for _, s := range d.SubRanges {
		lo, hi = min(lo, s.Range.First), max(hi, s.Range.Last)
	}
	span := float64(hi-lo) + 1
	m := portMap{ID: c.ID, Target: c.Target, Summary: strings.Join(udpRangeSummary(c), "; ")}
	counts := map[string]int{}
	for _, s := range d.SubRanges {
		class := segmentClass(s, d)
		m.Segments = append(m.Segments, portSegment{
			X:     float64(s.Range.First-lo) / span * portMapWidth,
			W:     max(float64(s.Range.Len())/span*portMapWidth, 0.5),
			Class: class,
			Label: fmt.Sprintf("%s (%d ports swept)", s, s.Ports),
		})
		counts[class] += s.Ports
	}
	for _, class := range []string{"open", "closed", "blocked", "inbound", "return", "silent", "untested"} {
		if n, ok := counts[class]; ok {
			m.Legend = append(m.Legend, portLegend{Class: class, Name: segmentNames[class], Ports: n})
		}
	}
	return m, true
}

var segmentNames = map[string]string{
	"open": "open (answered)", "closed": "closed (reached, nothing listens)",
	"blocked": "blocked", "inbound": "blocked inbound (towards the server)",
	"return": "blocked on the way back", "silent": "silent or refused, not named a block (inconclusive)",
	"untested": "not tested (not served, or unreachable)",
}

// segmentClass groups the sweep's port states into what a reader needs to
// see on the strip. Blocked is the probe's one judgement (IsBlocked), the
// one the udp-port-range rules name; silence or a refusal it does not
// name is drawn as such, never as a block.
func segmentClass(s probe.UDPSubRange, d *probe.UDPRangeDetails) string {
	switch s.State {
	case probe.PortOpen:
		return "open"
	case probe.PortClosed, probe.PortFiltered, probe.PortProhibited, probe.PortUnreachable:
	default:
		return "untested"
	}
	switch {
	case !d.IsBlocked(s) && s.State == probe.PortClosed:
		return "closed"
	case !d.IsBlocked(s):
		return "silent"
	case s.Direction == probe.DirInbound:
		return "inbound"
	case s.Direction == probe.DirReturn:
		return "return"
	}
	return "blocked"
}

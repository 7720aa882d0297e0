package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

// htmlSamples are three runs of the xphone profile as the browser test and
// the structure test see them: healthy, a range blocked on the way in,
// and ICE failed.
func htmlSamples(t testing.TB) map[string]*Report {
	t.Helper()
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	sig := check("signalling", probe.KindTCP).at("pbx.example", "192.0.2.10").port(2230).target("pbx.example:2230").r()
	healthyICE := siteICE.ice("two-ended", probe.ICEDetails{State: "connected", SelectedVia: "host",
		LocalCandidates: []probe.ICECandidate{hostA}, RemoteCandidates: []probe.ICECandidate{hostB},
		Pairs: []probe.ICEPair{pair(hostA, hostB, "succeeded", true), pair(srflxA, hostB, "in-progress", false)}, Media: goodMedia()}).r()
	media := healthyICE.Details.ICE.Media
	for i := range 25 {
		iv := probe.MediaInterval{StartS: float64(i) * 0.2, Sent: 10, Received: 10, RTTMeanMS: 20 + float64(i%5), JitterMS: 2}
		if i == 12 {
			iv.Received, iv.LossPct = 7, 30
		}
		media.Series = append(media.Series, iv)
	}
	failedICE := siteICE.failed(probe.ClassTimeout).ice("two-ended", probe.ICEDetails{State: "failed",
		LocalCandidates: []probe.ICECandidate{hostA, srflxA}, RemoteCandidates: []probe.ICECandidate{hostB},
		Pairs: []probe.ICEPair{pair(hostA, hostB, "failed", false), pair(srflxA, hostB, "failed", false)}}).r()
	failedICE.Error = "no candidate pair succeeded"
	open := run(30000, 33000, probe.PortOpen, "")
	env := probe.Environment{Interfaces: []probe.Interface{{Name: "eth0", Kind: probe.IfEthernet, Addrs: []string{"192.168.0.2/24"}, MTU: 1500, Up: true, Running: true}}}
	build := func(checks ...probe.Result) *Report {
		r := Build(p, map[string]string{"server": "pbx.example"}, "test", time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), 2*time.Second, checks, env, probe.RunInfo{})
		r.Labels = map[string]string{"operator": "jane", "site": "berlin"}
		return r
	}
	return map[string]*Report{
		"healthy":       build(sig, check("media-range", probe.KindUDPRange).udp().atTURN().runs(open).receipts().r(), healthyICE),
		"blocked-range": build(sig, check("media-range", probe.KindUDPRange).udp().atTURN().runs(run(30000, 30999, probe.PortOpen, ""), run(31000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r(), healthyICE),
		"ice-failed":    build(sig, failedICE),
	}
}

func renderHTML(t testing.TB, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTMLReport(t *testing.T) {
	tests := []struct {
		sample  string
		verdict Verdict
		want    []string // text the page must show
		absent  []string
	}{
		{"healthy", VerdictOK, []string{"All checks that ran passed.", "round trip (mean per interval)", "2.4 s: 30 % lost (3 of 10)", "open (answered): 3001 ports", "succeeded (selected)", "4.38", "site=berlin",
			"Sign-off record", "run by jane", `requirements from C4B, "Why are softphone calls not connected with another?"`},
			[]string{"What to do", "blocked inbound"}},
		{"blocked-range", VerdictFailed, []string{"udp-port-range-blocked", "31000-33000 filtered (inbound)", "blocked inbound (towards the server): 2001 ports",
			"open (answered): 1000 ports", "What to do:", `section "Cause 1"`, "RTP port range for voice packets"}, nil},
		{"ice-failed", VerdictFailed, []string{"ice-failed", "no candidate pair succeeded", "failed"}, []string{"Media ("}},
	}
	samples := htmlSamples(t)
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			r := samples[tt.sample]
			if r.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s (findings %v)", r.Verdict, tt.verdict, causes(r.Findings))
			}
			page := renderHTML(t, r)
			text := visibleText(t, page)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(text, a) {
					t.Errorf("page shows %q", a)
				}
			}
			assertSelfContained(t, page)
		})
	}
}

// assertSelfContained: a CSP that forbids every fetch, no script, and no
// attribute that would load anything from outside the page.
func assertSelfContained(t *testing.T, page []byte) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var csp string
	walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "script" || n.Data == "iframe" || n.Data == "link" || n.Data == "img" {
			t.Errorf("page has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "http-equiv" && a.Val == "Content-Security-Policy":
				csp = attr(n, "content")
			case a.Key == "src", a.Key == "href" && !strings.HasPrefix(a.Val, "#"), strings.HasPrefix(a.Key, "on"):
				t.Errorf("<%s %s=%q> would load or run something", n.Data, a.Key, a.Val)
			}
		}
	})
	if !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q: want default-src 'none' and no unsafe sources", csp)
	}
}

// Strings from the network are escaped, never markup; secrets never show.
func TestHTMLEscapesAndHidesSecrets(t *testing.T) {
	r := htmlSamples(t)["ice-failed"]
	r.Checks[1].Error = `<script>alert(1)</script> "ALL OK"`
	r.Variables["turn"] = `<img src=x onerror=alert(1)>`
	page := renderHTML(t, r)
	if bytes.Contains(page, []byte("<script>alert")) || bytes.Contains(page, []byte("<img src=x")) {
		t.Fatal("a string from the evidence reached the page as markup")
	}
	assertSelfContained(t, page)
	if text := visibleText(t, page); !strings.Contains(text, `<script>alert(1)</script> "ALL OK"`) {
		t.Error("the escaped error text is not shown as text")
	}
}

// A report without a sweep or media leaves those sections out.
func TestHTMLLeavesOutEmptySections(t *testing.T) {
	page := string(renderHTML(t, htmlSamples(t)["ice-failed"]))
	for _, s := range []string{"UDP port ranges", "<svg", "Media (", "polyline"} {
		if strings.Contains(page, s) {
			t.Errorf("page without sweep or media shows %q", s)
		}
	}
}

func visibleText(t testing.TB, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	walk(doc, func(n *html.Node) {
		if n.Type == html.TextNode && (n.Parent == nil || n.Parent.Data != "style") {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

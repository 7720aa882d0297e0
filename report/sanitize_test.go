package report

import (
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"coturn-4.6.1", "coturn-4.6.1"},
		{"Zürich – 200 OK", "Zürich – 200 OK"},
		{"\x1b[2J ALL OK", " ALL OK"},
		{"\x1b[1;31mred\x1b[0m", "red"},
		{"title\x1b]0;pwned\x07 after", "title after"},
		{"osc st\x1b]8;;http://x\x1b\\link", "osc stlink"},
		{"c1 csi \u009b2J!", "c1 csi !"},
		{"dcs \x1bPq#0\x1b\\ end", "dcs  end"},
		{"two-byte \x1bc reset", "two-byte  reset"},
		{"line\nforged: ok\r\ttab", "line forged: ok  tab"},
		{"bell\x07 del\x7f nul\x00", "bell  del  nul "},
		{"rtl \u202eKO\u202c done \u2066x\u2069", "rtl KO done x"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"trailing esc \x1b", "trailing esc "},
		{"unterminated \x1b[12;", "unterminated "},
		{"csi then ctl \x1b[1\x07m", "csi then ctl  m"},
	}
	for _, tc := range tests {
		if got := CleanText(tc.in); got != tc.want {
			t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSanitizeReport: every string the report reaches is cleaned, in a
// copy; the report the rules judged keeps its evidence as it came.
func TestSanitizeReport(t *testing.T) {
	evil := "\x1b[2J ALL OK"
	r := &Report{
		Profile:   "generic",
		Variables: map[string]string{"server" + evil: evil},
		Checks: []probe.Result{{ID: "stun", Error: evil, Details: probe.Details{
			STUN: &probe.STUNDetails{Software: evil},
			SIP:  &probe.SIPDetails{Reason: evil, UserAgent: evil},
		}}},
		Findings: []Finding{{Title: evil, Evidence: []string{evil}, Facts: map[string]string{"k": evil}, Folded: []Folded{{Title: evil}}}},
	}
	s := Sanitize(r)
	if s == r || s.Checks[0].Details.STUN == r.Checks[0].Details.STUN {
		t.Fatal("Sanitize did not copy")
	}
	for what, got := range map[string]string{
		"error": s.Checks[0].Error, "software": s.Checks[0].Details.STUN.Software,
		"sip reason": s.Checks[0].Details.SIP.Reason, "user agent": s.Checks[0].Details.SIP.UserAgent,
		"title": s.Findings[0].Title, "evidence": s.Findings[0].Evidence[0], "fact": s.Findings[0].Facts["k"],
		"folded": s.Findings[0].Folded[0].Title, "variable": s.Variables["server ALL OK"],
	} {
		if got != " ALL OK" {
			t.Errorf("%s = %q, want %q", what, got, " ALL OK")
		}
	}
	if r.Checks[0].Details.STUN.Software != evil || r.Findings[0].Title != evil {
		t.Error("Sanitize changed the original report")
	}
	var b strings.Builder
	if err := WriteText(&b, r, TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Errorf("text report carries ESC:\n%q", b.String())
	}
	if Sanitize(nil) != nil {
		t.Error("Sanitize(nil) is not nil")
	}
}

package profiles

import (
	"errors"
	"strings"
	"testing"
)

func TestCitationString(t *testing.T) {
	tests := []struct {
		c    Citation
		want string
	}{
		{Citation{}, ""},
		{Citation{Title: "Site plan"}, `"Site plan"`},
		{Citation{Vendor: "C4B", Title: "Why?", Version: "as of April 2021", Section: "Cause 1"},
			`C4B, "Why?" (as of April 2021), section "Cause 1"`},
		{Citation{Section: "Notes"}.within(Citation{Vendor: "estos", Title: "T"}), `estos, "T", section "Notes"`},
		{Citation{Vendor: "V", Title: "Other", Section: "2"}.within(Citation{Vendor: "estos", Title: "T"}), `V, "Other", section "2"`},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.c, got, tt.want)
		}
	}
}

func TestCitationsAtLoad(t *testing.T) {
	const head = "id: site\nproduct: P\npurpose: test\n"
	const checks = "checks:\n  - id: sig\n    kind: tcp\n    target: h\n    port: 1\n"
	doc := "source:\n  vendor: V\n  title: Ports\n  version: \"2026\"\n"
	tests := []struct {
		name, yaml string
		want       string // error text, or the remedy's rendered source
	}{
		{"remedy section", head + doc + checks + "remedies:\n  tcp-blocked:\n    text: open it\n    quote: q\n    section: Firewall\n",
			`V, "Ports" (2026), section "Firewall"`},
		{"remedy from another document", head + doc + checks + "remedies:\n  tcp-blocked:\n    text: t\n    quote: q\n    source: {vendor: W, title: Other, section: '3'}\n",
			`W, "Other", section "3"`},
		{"title as plain string", head + "source: Our firewall plan\n" + checks + "remedies:\n  tcp-blocked:\n    text: t\n    quote: q\n    section: A\n",
			`"Our firewall plan", section "A"`},
		{"quote without section", head + doc + checks + "remedies:\n  tcp-blocked:\n    text: t\n    quote: q\n",
			"site.yaml:14: remedy tcp-blocked: say which section"},
		{"quote without document", head + checks + "remedies:\n  tcp-blocked:\n    text: t\n    quote: q\n    section: A\n",
			"site.yaml:10: remedy tcp-blocked quotes a document but the profile has no source"},
		{"section without quote", head + doc + checks + "remedies:\n  tcp-blocked:\n    text: t\n    section: A\n",
			"site.yaml:14: remedy tcp-blocked cites a document but quotes nothing"},
		{"unknown source field", head + "source:\n  vendor: V\n  titel: Ports\n" + checks,
			"site.yaml:6: field titel not found in a source"},
		{"limits without section", head + doc + "limits:\n  rtt_ms: 80\n  source: {vendor: V}\n" + checks,
			"site.yaml:8: limits.source needs a section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("site.yaml", []byte(tt.yaml))
			if strings.Contains(tt.want, "site.yaml:") {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want ErrInvalid containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Remedies["tcp-blocked"].Source; got != tt.want {
				t.Errorf("remedy source %s, want %s", got, tt.want)
			}
		})
	}
}

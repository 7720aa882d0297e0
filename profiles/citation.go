package profiles

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Citation names a vendor document the way a reader would look it up:
// who published it, its title, its version or date, and the section a
// quote comes from. The repository never reads the document itself; what a
// profile needs from it (the quote) is written in the profile.
type Citation struct {
	Vendor  string `yaml:"vendor,omitempty"`
	Title   string `yaml:"title,omitempty"`
	Version string `yaml:"version,omitempty"` // a version, edition or "as of" date
	Section string `yaml:"section,omitempty"`
}

// IsZero reports whether nothing was cited.
func (c Citation) IsZero() bool { return c == Citation{} }

// within fills what c leaves out from the document d it is a part of: a
// remedy usually names only a section of the profile's document.
func (c Citation) within(d Citation) Citation {
	if c.Vendor == "" && c.Title == "" {
		c.Vendor, c.Title, c.Version = d.Vendor, d.Title, d.Version
	}
	return c
}

// String is the citation as a report prints it, e.g.
// `C4B, "Why are softphone calls not connected with another?" (as of April 2021), section "Cause 1"`.
func (c Citation) String() string {
	if c.IsZero() {
		return ""
	}
	var b strings.Builder
	if c.Vendor != "" {
		b.WriteString(c.Vendor)
		b.WriteString(", ")
	}
	fmt.Fprintf(&b, "%q", c.Title)
	if c.Version != "" {
		fmt.Fprintf(&b, " (%s)", c.Version)
	}
	if c.Section != "" {
		fmt.Fprintf(&b, ", section %q", c.Section)
	}
	return b.String()
}

// resolveCitations checks every citation of the profile and renders it
// into the Source strings the report prints. A quote needs a document with
// a vendor and a title, and the section it stands in.
func (p *Profile) resolveCitations() error {
	if !p.Doc.IsZero() {
		if p.Doc.Title == "" {
			return p.errAt("source", "source needs the document's title (and its vendor)")
		}
		p.Source = p.Doc.String()
	}
	if l := p.Limits; !l.Doc.IsZero() {
		c := l.Doc.within(p.Doc)
		if c.Title == "" || c.Section == "" {
			return p.errAt("limits", "limits.source needs a section (section: ...) of the profile's document, or a vendor, title and section")
		}
		p.Limits.Source = c.String()
	}
	for cause, r := range p.Remedies {
		c := r.Doc.within(p.Doc)
		if r.Section != "" {
			c.Section = r.Section
		}
		switch {
		case r.Quote != "" && c.Title == "":
			return p.errAt("remedies."+cause, "remedy %s quotes a document but the profile has no source (vendor and title)", cause)
		case r.Quote != "" && c.Section == "":
			return p.errAt("remedies."+cause, "remedy %s: say which section of %q the quote is from (section: ...)", cause, c.Title)
		case r.Quote == "" && (!r.Doc.IsZero() || r.Section != ""):
			return p.errAt("remedies."+cause, "remedy %s cites a document but quotes nothing from it (quote: ...)", cause)
		}
		if r.Quote != "" {
			r.Source = c.String()
			p.Remedies[cause] = r
		}
	}
	return nil
}

// UnmarshalYAML takes a mapping (vendor, title, version, section) or, for
// a user's own profile, a plain string that is the document's title.
func (c *Citation) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = Citation{Title: n.Value}
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var dst *string
			switch k.Value {
			case "vendor":
				dst = &c.Vendor
			case "title":
				dst = &c.Title
			case "version":
				dst = &c.Version
			case "section":
				dst = &c.Section
			default:
				return &yaml.TypeError{Errors: []string{lineMsg(k.Line, "field %s not found in a source (vendor, title, version, section)", k.Value)}}
			}
			if v.Kind != yaml.ScalarNode {
				return &yaml.TypeError{Errors: []string{lineMsg(v.Line, "source %s must be text", k.Value)}}
			}
			*dst = v.Value
		}
		return nil
	}
	return &yaml.TypeError{Errors: []string{lineMsg(n.Line, "source must be a document title or a mapping of vendor, title, version and section")}}
}

package profiles

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

func TestEmbeddedProfiles(t *testing.T) {
	all, err := List()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"estos-procall", "estos-ucserver", "generic", "imagicle-ucx", "swyx-hostedpbx", "xphone"}
	var got []string
	for _, p := range all {
		got = append(got, p.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("profiles %v, want %v", got, want)
	}
	for _, p := range all {
		if p.File != "embedded:"+p.ID+".yaml" {
			t.Errorf("%s: file %s does not match its id", p.ID, p.File)
		}
		if p.ID == "generic" {
			if !p.Doc.IsZero() || len(p.Remedies) != 0 {
				t.Errorf("generic cites no vendor document and has no vendor remedies (the catalog's apply)")
			}
			continue
		}
		// A citation names the document as a reader would look it up.
		if p.Doc.Vendor == "" || p.Doc.Title == "" {
			t.Errorf("%s: source %+v lacks the vendor or the title", p.ID, p.Doc)
		}
		for _, ref := range append([]string{p.Source, p.Limits.Source}, p.Refs...) {
			if strings.HasSuffix(ref, ".txt") {
				t.Errorf("%s: reference %q is a file name, not a document a reader can find", p.ID, ref)
			}
		}
		if len(p.Remedies) == 0 {
			t.Errorf("%s: a vendor profile quotes its vendor for at least one cause", p.ID)
		}
		for cause, r := range p.Remedies {
			if r.Quote == "" || r.Text == "" {
				t.Errorf("%s: remedy %s lacks text or the vendor's quote", p.ID, cause)
			}
			if r.Section == "" || !strings.Contains(r.Source, p.Doc.Title) || !strings.Contains(r.Source, "section") {
				t.Errorf("%s: remedy %s cites %q: want the document's title and a section", p.ID, cause, r.Source)
			}
		}
	}
}

// The ports each vendor document names are what the profiles check.
func TestProfilePorts(t *testing.T) {
	tests := []struct {
		profile string
		vars    map[string]string
		want    map[string]string // check id -> target
	}{
		{"xphone", map[string]string{"server": "x.example"}, map[string]string{
			"signalling": "x.example:2230", "media-range": "x.example:30000-33000"}},
		{"estos-procall", map[string]string{"ucconnect": "u.example", "server": "s.example"}, map[string]string{
			"ucserver": "s.example:7222", "ucconnect-tls": "u.example:443", "ucconnect-ws": "u.example:443",
			"stun": "u.example:3478", "turn-udp": "u.example:3478", "turn-tcp": "u.example:3478"}},
		{"estos-ucserver", map[string]string{"ucconnect": "u.example"}, map[string]string{
			"ucconnect-tls": "u.example:443", "ucconnect-ws": "u.example:443"}},
		{"imagicle-ucx", map[string]string{"server": "i.example"}, map[string]string{
			"cti": "i.example:51234", "cti-tls": "i.example:51235", "web-80": "i.example:80", "web-443": "i.example:443"}},
		{"swyx-hostedpbx", map[string]string{"server": "p.example"}, map[string]string{
			"client-443": "p.example:443", "client-9094": "p.example:9094", "client-9100": "p.example:9100",
			"client-9101": "p.example:9101", "client-16203": "p.example:16203", "client-57203": "p.example:57203",
			"web": "p.example:9443", "sip": "p.example:5060", "rtp-range": "p.example:10000-59999"}},
		{"generic", map[string]string{"server": "g.example", "tcp": "443,5061", "udp": "30000-30010"}, map[string]string{
			"tcp-443": "g.example:443", "tcp-5061": "g.example:5061", "udp-range": "g.example:30000-30010"}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p, err := Load(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			specs, err := p.Plan(tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]probe.Spec{}
			for _, s := range specs {
				got[s.ID] = s
			}
			for id, target := range tt.want {
				s, ok := got[id]
				if !ok {
					t.Errorf("no check %s", id)
					continue
				}
				if s.Target != target || s.Skip != "" {
					t.Errorf("%s: target %q skip %q, want %q", id, s.Target, s.Skip, target)
				}
			}
		})
	}
	p, _ := Load("imagicle-ucx")
	if l := p.EffectiveLimits(); l.RTTMS != 80 || l.JitterMS != 30 {
		t.Errorf("imagicle limits %+v, want RTT 80 ms (seed 002) and default jitter 30 ms", l)
	}
}

func TestPlanVariables(t *testing.T) {
	p, _ := Load("xphone")
	specs, err := p.Plan(map[string]string{"server": "x.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		switch s.ID {
		case "stun", "turn-udp", "turn-tcp":
			if !strings.Contains(s.Skip, "turn not set") {
				t.Errorf("%s without turn: skip %q", s.ID, s.Skip)
			}
		case "media-range":
			if !s.NeedsResponder || s.LocalRange == nil || s.LocalRange.First != 49152 || len(s.Ranges) != 1 || s.Ranges[0].Len() != 3001 {
				t.Errorf("media-range spec %+v", s)
			}
		}
	}
	bad := []struct {
		profile string
		vars    map[string]string
		want    string
	}{
		{"xphone", nil, "needs server"},
		{"xphone", map[string]string{"server": "x.example", "colour": "red"}, `no variable "colour"`},
		{"xphone", map[string]string{"server": "https://x.example"}, "not a URL"},
		{"xphone", map[string]string{"server": "x.example:2230"}, "without a port"},
		{"xphone", map[string]string{"server": "bad host"}, "not a host name character"},
		{"generic", map[string]string{"server": "g.example", "tcp": "70000"}, "outside 1-65535"},
		{"generic", map[string]string{"server": "g.example", "udp": "33000-30000"}, "reversed"},
		{"estos-procall", map[string]string{"server": "s.example"}, "needs ucconnect"},
	}
	for _, b := range bad {
		p, _ := Load(b.profile)
		_, err := p.Plan(b.vars)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s %v: error %v, want it to say %q", b.profile, b.vars, err, b.want)
		}
	}
}

func TestStrictLoader(t *testing.T) {
	const good = `id: site
product: Site PBX
purpose: test
source: {vendor: Me, title: Site plan}
variables:
  server: {description: the PBX, required: true}
checks:
  - id: sig
    kind: tcp
    target: "{server}"
    port: 5060
`
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", strings.Replace(good, "    port: 5060", "    port: 5060\n    prot: 5061", 1), "site.yaml:12: field prot not found in a check"},
		{"type error", strings.Replace(good, "port: 5060", "port: [1, 2]", 1), "site.yaml:11: cannot unmarshal"},
		{"bad port", strings.Replace(good, "port: 5060", "port: 70000", 1), "site.yaml:11: check sig: bad port list: 70000 is outside 1-65535"},
		{"reversed range", strings.Replace(good, "port: 5060", "ports: 33000-30000", 1), "site.yaml:11: check sig: bad port list"},
		{"unknown kind", strings.Replace(good, "kind: tcp", "kind: icmp", 1), `site.yaml:9: check sig: unknown kind "icmp"`},
		{"undeclared variable", strings.Replace(good, `"{server}"`, `"{srv}"`, 1), "site.yaml:10: check sig: {srv} is not a declared variable"},
		{"duplicate id", good + "  - id: sig\n    kind: tcp\n    target: x\n    port: 1\n", `site.yaml:12: check id "sig" is used twice`},
		{"bad duration", strings.Replace(good, "port: 5060", "port: 5060\n    timeout: soon", 1), `site.yaml:12: "soon" is not a duration`},
		{"not yaml", "id: [unclosed", "site.yaml:1: did not find expected"},
		{"no checks", strings.Split(good, "checks:")[0], "a profile needs at least one check"},
		{"misspelt remedy key", good + "remedies:\n  tcp-blokced:\n    text: open it\n", `site.yaml:13: remedy key "tcp-blokced" is not a cause ucprobe can name; did you mean tcp-blocked?`},
		{"second document", good + "---\nid: other\n", "site.yaml:12: a second YAML document starts here; a profile is one document"},
		{"empty second document", good + "---\n", "site.yaml:12: a second YAML document"},
		{"over the size cap", good + "# " + strings.Repeat("x", MaxFileBytes) + "\n", "site.yaml: file too large: over 1024 KiB, the cap for a configuration file"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "site.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrInvalid containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("not one line: %q", err)
			}
			if strings.Contains(err.Error(), "profiles.") {
				t.Errorf("Go type names leak into the message: %v", err)
			}
		})
	}
	path := filepath.Join(dir, "ok.yaml")
	_ = os.WriteFile(path, []byte(good), 0o600)
	if _, err := Load(path); err != nil {
		t.Fatalf("good profile: %v", err)
	}
	if _, err := Load("nosuch"); !errors.Is(err, ErrUnknownProfile) || !strings.Contains(err.Error(), "xphone") {
		t.Errorf("unknown profile error %v should list the known ones", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// Package profiles holds the embedded vendor profiles, loads and strictly
// validates profile YAML, and expands a profile plus variables into a plan
// of probe specs.
package profiles

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// Profile is one product role's checks, limits and remedies, as written in
// YAML. A vendor profile cites the document its ports and quotes come from.
type Profile struct {
	ID      string `yaml:"id"`
	Product string `yaml:"product"`
	Role    string `yaml:"role"`
	Purpose string `yaml:"purpose"`
	// Doc is the vendor document the profile comes from (none for generic).
	Doc  Citation `yaml:"source,omitempty"`
	Refs []string `yaml:"refs,omitempty"`
	// Source is Doc as a report prints it; filled at load.
	Source string `yaml:"-"`
	// Variables are the values a run fills in ({name} in targets).
	Variables map[string]Variable `yaml:"variables"`
	Defaults  Defaults            `yaml:"defaults,omitempty"`
	Limits    Limits              `yaml:"limits,omitempty"`
	Checks    []Check             `yaml:"checks"`
	// Remedies map a cause id to what the vendor says to do about it.
	Remedies map[string]Remedy `yaml:"remedies,omitempty"`

	// File is where the profile came from ("embedded:xphone.yaml" or a path).
	File string `yaml:"-"`
	// Raw is the YAML as loaded, for `profiles show`.
	Raw []byte `yaml:"-"`
	// lines maps "checks.N" and "checks.N.field" to YAML line numbers.
	lines map[string]int
}

// Variable is a value a profile needs from the command line.
type Variable struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required,omitempty"`
	Default     string `yaml:"default,omitempty"`
}

// Defaults apply to every check that does not say otherwise.
type Defaults struct {
	Timeout Duration `yaml:"timeout,omitempty"`
}

// Limits are the media quality limits of the product.
type Limits struct {
	RTTMS    float64 `yaml:"rtt_ms,omitempty"`
	JitterMS float64 `yaml:"jitter_ms,omitempty"`
	LossPct  float64 `yaml:"loss_pct,omitempty"`
	MOSMin   float64 `yaml:"mos_min,omitempty"`
	// MediaS is the default length of the media-like measurement.
	MediaS float64 `yaml:"media_s,omitempty"`
	// Doc cites where the limits come from: a section of the profile's
	// document, or another document.
	Doc Citation `yaml:"source,omitempty"`
	// Source is Doc as a report prints it; filled at load.
	Source string `yaml:"-"`
}

// DefaultLimits follow Microsoft's published client-to-edge budget for
// real-time media: loss < 1 %, jitter < 30 ms, RTT < 100 ms.
var DefaultLimits = Limits{RTTMS: 100, JitterMS: 30, LossPct: 1, MOSMin: 3.1, MediaS: 5}

// Check is one declared check. Strings may hold {variable} placeholders.
type Check struct {
	ID    string `yaml:"id"`
	Kind  string `yaml:"kind"`
	Title string `yaml:"title,omitempty"`
	// Target is a host, usually "{server}".
	Target string `yaml:"target"`
	// Port is one port; Ports a list or ranges ("443,9094", "30000-33000").
	// A tcp/tls/stun/sip check with several ports becomes one check per port.
	Port      string   `yaml:"port,omitempty"`
	Ports     string   `yaml:"ports,omitempty"`
	Transport string   `yaml:"transport,omitempty"`
	Path      string   `yaml:"path,omitempty"`
	SNI       string   `yaml:"sni,omitempty"`
	Timeout   Duration `yaml:"timeout,omitempty"`
	// Needs: responder marks checks only a ucprobe responder can answer.
	Needs    string `yaml:"needs,omitempty"`
	Optional bool   `yaml:"optional,omitempty"`
	// When names a variable; the check runs only when it is not empty.
	When       string `yaml:"when,omitempty"`
	Sample     int    `yaml:"sample,omitempty"`
	LocalPorts string `yaml:"local_ports,omitempty"`
	Mode       string `yaml:"mode,omitempty"`
	// AnswersSTUN (udp-range) says, in the profile document's words, that
	// the vendor's media server answers STUN on the range's ports: a
	// sample without a responder then weighs silence more.
	AnswersSTUN *AnswersSTUN `yaml:"answers_stun,omitempty"`
}

// AnswersSTUN is a vendor's statement that its media server answers STUN
// on its media ports: the document's own words, and where they stand.
type AnswersSTUN struct {
	Quote   string `yaml:"quote"`
	Section string `yaml:"section,omitempty"`
}

// Remedy is what to do about a cause, in the vendor's words.
// The quote is the document's own words ("..." marks an omission); Section
// says where in the profile's document it stands, Doc names another
// document instead.
type Remedy struct {
	Text    string   `yaml:"text"`
	Quote   string   `yaml:"quote,omitempty"`
	Section string   `yaml:"section,omitempty"`
	Doc     Citation `yaml:"source,omitempty"`
	// Source is the citation as a report prints it; filled at load.
	Source string `yaml:"-"`
}

// Duration is a time.Duration written as "3s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses "3s", "500ms".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{lineMsg(n.Line, "%q is not a duration (write e.g. 3s or 500ms)", n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// EffectiveLimits are the profile's limits with defaults filled in.
func (p *Profile) EffectiveLimits() Limits {
	l := p.Limits
	d := DefaultLimits
	if l.RTTMS == 0 {
		l.RTTMS = d.RTTMS
	}
	if l.JitterMS == 0 {
		l.JitterMS = d.JitterMS
	}
	if l.LossPct == 0 {
		l.LossPct = d.LossPct
	}
	if l.MOSMin == 0 {
		l.MOSMin = d.MOSMin
	}
	if l.MediaS == 0 {
		l.MediaS = d.MediaS
	}
	return l
}

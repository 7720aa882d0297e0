package profiles

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// ErrVariable is the class of errors in the values given for variables.
var ErrVariable = errors.New("bad variable")

// Vars resolves the values of the profile's variables: the given values,
// then defaults; unknown names and missing required values are errors.
func (p *Profile) Vars(given map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for name, val := range given {
		if !p.hasVar(name) {
			return nil, fmt.Errorf("%w: --set %s: profile %s has no variable %q (it has: %s)", ErrVariable, name, p.DisplayName(), name, strings.Join(p.VariableNames(), ", "))
		}
		out[name] = strings.TrimSpace(val)
	}
	for _, name := range p.VariableNames() {
		v := p.Variables[name]
		if _, ok := out[name]; !ok {
			out[name] = v.Default
		}
		if v.Required && out[name] == "" {
			hint := "--set " + name + "=VALUE"
			if name == "server" {
				hint = "--server HOST"
			}
			return nil, fmt.Errorf("%w: profile %s needs %s (%s): give %s", ErrVariable, p.DisplayName(), name, v.Description, hint)
		}
	}
	return out, nil
}

// Plan expands the profile's checks with the variables into probe specs.
func (p *Profile) Plan(given map[string]string) ([]probe.Spec, error) {
	vars, err := p.Vars(given)
	if err != nil {
		return nil, err
	}
	var specs []probe.Spec
	for _, c := range p.Checks {
		s, err := p.planCheck(c, vars)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s...)
	}
	return specs, nil
}

func (p *Profile) planCheck(c Check, vars map[string]string) ([]probe.Spec, error) {
	kind := probe.Kind(c.Kind)
	base := probe.Spec{
		ID: c.ID, Kind: kind, Title: c.Title, Transport: probe.Transport(c.Transport),
		NeedsResponder: c.Needs == "responder", Optional: c.Optional, Sample: c.Sample, Mode: c.Mode,
	}
	if a := c.AnswersSTUN; a != nil {
		base.AnswersSTUN = answersSTUNSource(p.Doc, a)
	}
	// A timeout in the profile caps the bound the run computes (from its
	// deadline and the round trips it measures); without one there is no
	// cap and no per-kind default.
	base.Timeout = time.Duration(c.Timeout)
	if base.Timeout == 0 {
		base.Timeout = time.Duration(p.Defaults.Timeout)
	}
	if c.When != "" && vars[c.When] == "" {
		base.Skip = fmt.Sprintf("variable %s not set (--set %s=VALUE runs this check)", c.When, c.When)
	}
	usedBy := func(field string) string { return fmt.Sprintf("check %s %s", c.ID, field) }
	host, err := expandHost(c.Target, vars, usedBy("target"))
	if err != nil && base.Skip == "" {
		return nil, err
	}
	base.Host = host
	base.Path = expand(c.Path, vars)
	base.SNI = expand(c.SNI, vars)
	if base.Skip != "" && host == "" {
		return []probe.Spec{base}, nil
	}
	if c.LocalPorts != "" {
		rs, err := portsVar(c.LocalPorts, vars, usedBy("local_ports"))
		if err != nil {
			return nil, err
		}
		lr := probe.PortRange{First: rs[0].First, Last: rs[len(rs)-1].Last}
		base.LocalRange = &lr
	}
	portText := c.Port
	if portText == "" {
		portText = c.Ports
	}
	if portText == "" {
		base.Target = host
		return []probe.Spec{base}, nil
	}
	rs, err := portsVar(portText, vars, usedBy("ports"))
	if err != nil {
		if base.Skip != "" {
			base.Target = host
			return []probe.Spec{base}, nil
		}
		return nil, err
	}
	if info, _ := probe.KindOf(kind); !info.PerPort {
		base.Ranges = rs
		base.Port = int(rs[0].First)
		base.Target = joinHostPort(host, probe.FormatRanges(rs))
		return []probe.Spec{base}, nil
	}
	n := probe.CountPorts(rs)
	if n > 64 {
		return nil, fmt.Errorf("%w: check %s: %d ports is too many for a %s check (64 at most; use a udp-range check for ranges)", ErrInvalid, c.ID, n, c.Kind)
	}
	var out []probe.Spec
	for _, r := range rs {
		for port := int(r.First); port <= int(r.Last); port++ {
			s := base
			s.Port = port
			s.Target = joinHostPort(host, itoa(port))
			if n > 1 {
				s.ID = c.ID + "-" + itoa(port)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func expand(s string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string { return vars[m[1:len(m)-1]] })
}

// varsIn names the variables a string uses, for messages.
func varsIn(s string) string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return strings.Join(names, ", ")
}

func portsVar(text string, vars map[string]string, usedBy string) ([]probe.PortRange, error) {
	val := expand(text, vars)
	rs, err := probe.ParsePorts(val)
	if err != nil {
		if strings.Contains(text, "{") {
			return nil, fmt.Errorf("%w: %s=%q (%s): %v", ErrVariable, varsIn(text), val, usedBy, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, usedBy, err)
	}
	return rs, nil
}

func expandHost(text string, vars map[string]string, usedBy string) (string, error) {
	host := expand(text, vars)
	if err := ValidHost(host); err != nil {
		return host, fmt.Errorf("%w: %s=%q (%s): %v", ErrVariable, varsIn(text), host, usedBy, err)
	}
	return strings.Trim(strings.TrimSuffix(host, "."), "[]"), nil
}

// ValidHost accepts an IP address or a DNS name; it rejects URLs,
// host:port and spaces with a message that says what to give instead.
func ValidHost(h string) error {
	switch {
	case h == "":
		return errors.New("empty")
	case strings.Contains(h, "://"):
		return errors.New("give a host name or address, not a URL")
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return nil
	}
	if strings.Contains(h, ":") {
		return errors.New("give the host without a port (the profile names the ports)")
	}
	name := strings.TrimSuffix(h, ".")
	if len(name) > 253 {
		return errors.New("name longer than 253 characters")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a valid DNS label", label)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("%q is not a host name character", r)
			}
		}
	}
	return nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// answersSTUNSource is the citation a report prints for an answers_stun
// statement: the profile's document, the section, the quote.
func answersSTUNSource(doc Citation, a *AnswersSTUN) string {
	return Citation{Section: a.Section}.within(doc).String() + ": \"" + a.Quote + "\""
}

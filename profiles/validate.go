package profiles

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	varPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// placeholder matches {name} in a check's strings.
	placeholder = regexp.MustCompile(`\{([^{}]*)\}`)
)

func (p *Profile) validate() error {
	switch {
	case !idPattern.MatchString(p.ID):
		return p.errAt("id", "id %q must be lower-case letters, digits and dashes", p.ID)
	case strings.TrimSpace(p.Product) == "":
		return p.errAt("product", "product is required")
	case strings.TrimSpace(p.Purpose) == "":
		return p.errAt("purpose", "purpose is required (one line: what the profile checks)")
	case len(p.Checks) == 0:
		return p.errAt("checks", "a profile needs at least one check")
	}
	for name, v := range p.Variables {
		if !varPattern.MatchString(name) {
			return p.errAt("variables."+name, "variable name %q must be lower-case letters, digits and underscores", name)
		}
		if v.Required && v.Default != "" {
			return p.errAt("variables."+name, "variable %s is required and has a default; pick one", name)
		}
	}
	for name := range p.Remedies {
		if !cause.Known(name) {
			hint := ""
			var ids []string
			for _, id := range cause.IDs() {
				ids = append(ids, string(id))
			}
			if c := Closest(name, ids); c != "" {
				hint = "; did you mean " + c + "?"
			}
			return p.errAt("remedies."+name, "remedy key %q is not a cause ucprobe can name%s (the causes: docs/causes.md)", name, hint)
		}
	}
	if err := p.resolveCitations(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, c := range p.Checks {
		if err := p.validateCheck(i, c); err != nil {
			return err
		}
		if seen[c.ID] {
			return p.errAt(fmt.Sprintf("checks.%d.id", i), "check id %q is used twice", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

func (p *Profile) validateCheck(i int, c Check) error {
	at := func(field string) string { return fmt.Sprintf("checks.%d.%s", i, field) }
	kind := probe.Kind(c.Kind)
	info, known := probe.KindOf(kind)
	switch {
	case !idPattern.MatchString(c.ID):
		return p.errAt(at("id"), "check id %q must be lower-case letters, digits and dashes", c.ID)
	case !known || kind == probe.KindDNS:
		return p.errAt(at("kind"), "check %s: unknown kind %q (one of: %s; dns runs for every name by itself)", c.ID, c.Kind, kindList())
	case strings.TrimSpace(c.Target) == "":
		return p.errAt(at("target"), "check %s: target is required (e.g. \"{server}\")", c.ID)
	case c.Port != "" && c.Ports != "":
		return p.errAt(at("ports"), "check %s: give port or ports, not both", c.ID)
	case info.NeedsPort && c.Port == "" && c.Ports == "":
		return p.errAt(at("kind"), "check %s: a %s check needs port or ports", c.ID, c.Kind)
	case kind == probe.KindUDPRange && c.Ports == "":
		return p.errAt(at("port"), "check %s: a udp-range check takes ports: FIRST-LAST", c.ID)
	case c.Needs != "" && c.Needs != "responder":
		return p.errAt(at("needs"), "check %s: needs must be \"responder\", not %q", c.ID, c.Needs)
	case c.Transport != "" && !slices.Contains([]probe.Transport{probe.TransportUDP, probe.TransportTCP, probe.TransportTLS, probe.TransportDTLS}, probe.Transport(c.Transport)):
		return p.errAt(at("transport"), "check %s: transport %q is not udp, tcp, tls or dtls", c.ID, c.Transport)
	case c.AnswersSTUN != nil && kind != probe.KindUDPRange:
		return p.errAt(at("answers_stun"), "check %s: answers_stun is for udp-range checks, not %s", c.ID, c.Kind)
	case c.AnswersSTUN != nil && strings.TrimSpace(c.AnswersSTUN.Quote) == "":
		return p.errAt(at("answers_stun"), "check %s: answers_stun needs the vendor document's words (quote)", c.ID)
	case c.Mode != "" && !slices.Contains(info.Modes, c.Mode):
		return p.errAt(at("mode"), "check %s: mode %q is not valid for %s (valid: %s)", c.ID, c.Mode, c.Kind, strings.Join(info.Modes, ", "))
	case c.Sample < 0:
		return p.errAt(at("sample"), "check %s: sample must not be negative", c.ID)
	case c.When != "" && !p.hasVar(c.When):
		return p.errAt(at("when"), "check %s: when names variable %q, which the profile does not declare", c.ID, c.When)
	}
	fields := map[string]string{"target": c.Target, "port": c.Port, "ports": c.Ports, "path": c.Path, "sni": c.SNI, "local_ports": c.LocalPorts}
	for field, val := range fields {
		for _, m := range placeholder.FindAllStringSubmatch(val, -1) {
			if !p.hasVar(m[1]) {
				return p.errAt(at(field), "check %s: {%s} is not a declared variable", c.ID, m[1])
			}
		}
		if strings.Count(val, "{") != strings.Count(val, "}") {
			return p.errAt(at(field), "check %s: unbalanced braces in %q", c.ID, val)
		}
	}
	// Literal ports are checked now; ports from variables when planned.
	for field, val := range map[string]string{"port": c.Port, "ports": c.Ports, "local_ports": c.LocalPorts} {
		if val == "" || strings.Contains(val, "{") {
			continue
		}
		rs, err := probe.ParsePorts(val)
		if err != nil {
			return p.errAt(at(field), "check %s: %v", c.ID, err)
		}
		if field == "port" && (len(rs) != 1 || rs[0].Len() != 1) {
			return p.errAt(at(field), "check %s: port takes one port; use ports for lists and ranges", c.ID)
		}
	}
	return nil
}

func (p *Profile) hasVar(name string) bool {
	_, ok := p.Variables[name]
	return ok
}

func kindList() string {
	var ks []string
	for _, k := range probe.Kinds {
		if k != probe.KindDNS {
			ks = append(ks, string(k))
		}
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// VariableNames returns the declared variables, sorted.
func (p *Profile) VariableNames() []string {
	return slices.Sorted(maps.Keys(p.Variables))
}

func itoa(n int) string { return strconv.Itoa(n) }

package report

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// Redactor replaces private addresses, host names and user names in a
// report by placeholders. A placeholder is an HMAC of the value under the
// redactor's key: the same value gives the same placeholder within a
// bundle, and across bundles made with the same key, so two redacted
// reports still compare. Public addresses stay (they are the vendor's
// servers and the site's NAT, which a diagnosis needs).
type Redactor struct {
	key []byte
}

// NewRedactor redacts under key (at least 16 bytes; a bundle without
// --redact-key uses random bytes of its own).
func NewRedactor(key []byte) *Redactor { return &Redactor{key: key} }

func (x *Redactor) placeholder(kind, value string) string {
	m := hmac.New(sha256.New, x.key)
	m.Write([]byte(kind + "\x00" + strings.ToLower(value)))
	return kind + "-" + hex.EncodeToString(m.Sum(nil)[:4])
}

// ipToken finds IPv4 and IPv6 literals (with or without a port, a zone or
// a prefix length around them).
var ipToken = regexp.MustCompile(`[0-9A-Fa-f]*:[0-9A-Fa-f:.]*[0-9A-Fa-f]|\b(?:\d{1,3}\.){3}\d{1,3}\b`)

// Redact returns a copy of r with every private address, host name and
// user name replaced.
func (x *Redactor) Redact(r *Report) (*Report, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	names := x.sensitiveNames(r)
	doc = x.walk(doc, names)
	raw, err = json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var out Report
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// sensitiveNames maps each host and user name the report holds to its
// placeholder, longest first so "pbx.corp.example" goes before "corp".
func (x *Redactor) sensitiveNames(r *Report) [][2]string {
	set := map[string]string{}
	addHost := func(h string) {
		h = strings.TrimSuffix(strings.TrimSpace(h), ".")
		if h == "" || h == "localhost" {
			return
		}
		if _, err := netip.ParseAddr(h); err == nil {
			return // addresses are judged one by one
		}
		set[h] = x.placeholder("host", h)
	}
	for _, v := range r.Variables {
		for _, part := range strings.Split(v, ",") {
			if !strings.ContainsAny(part, "/ ") && strings.Contains(part, ".") {
				addHost(hostOnly(part))
			}
		}
	}
	for _, n := range r.Environment.Names {
		addHost(n.Name)
	}
	addHost(urlHost(r.Environment.Proxy.HTTPSProxy))
	for _, h := range strings.Split(r.Environment.Proxy.NoProxy, ",") {
		addHost(strings.TrimPrefix(strings.TrimSpace(h), "."))
	}
	for _, c := range r.Checks {
		addHost(c.Host)
		if t := c.Details.TLS; t != nil {
			addHost(t.ServerName)
		}
		if w := c.Details.WebSocket; w != nil {
			addHost(urlHost(w.Proxy))
		}
		if t := c.Details.TURN; t != nil && t.Username != "" {
			set[t.Username] = x.placeholder("user", t.Username)
		}
	}
	if op := r.Labels["operator"]; op != "" {
		set[op] = x.placeholder("user", op)
	}
	out := make([][2]string, 0, len(set))
	for k, v := range set {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		return len(out[i][0]) > len(out[j][0]) || len(out[i][0]) == len(out[j][0]) && out[i][0] < out[j][0]
	})
	return out
}

// urlHost is the host of a proxy URL ("" when it is none).
func urlHost(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Hostname()
	}
	// No scheme ("proxy.corp:3128", as HTTPS_PROXY is often written):
	// url.Parse takes the host for a scheme.
	if u, err := url.Parse("//" + s); err == nil {
		return u.Hostname()
	}
	return ""
}

// hostOnly strips a port from "host:port" (not from a bare IPv6 address).
func hostOnly(s string) string {
	if h, _, ok := strings.Cut(s, ":"); ok && strings.Count(s, ":") == 1 {
		return h
	}
	return s
}

func (x *Redactor) walk(v any, names [][2]string) any {
	switch t := v.(type) {
	case string:
		return x.redactString(t, names)
	case []any:
		for i := range t {
			t[i] = x.walk(t[i], names)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = x.walk(e, names)
		}
	}
	return v
}

func (x *Redactor) redactString(s string, names [][2]string) string {
	s = ipToken.ReplaceAllStringFunc(s, func(tok string) string {
		a, err := netip.ParseAddr(strings.Trim(tok, "[]"))
		if err != nil || !privateAddr(a) {
			return tok
		}
		return x.placeholder("ip", a.String())
	})
	for _, n := range names {
		s = replaceFold(s, n[0], n[1])
	}
	return s
}

// privateAddr: addresses that say something about the inside of a site
// (private, CGNAT, link-local: an IPv6 one may carry a MAC address).
func privateAddr(a netip.Addr) bool {
	switch probe.AddrScope(a.String()) {
	case probe.ScopePrivate, probe.ScopeCGNAT, probe.ScopeLinkLocal:
		return true
	}
	return false
}

// replaceFold replaces old by new in s, ignoring the case of ASCII
// letters (DNS names are case-insensitive).
func replaceFold(s, old, new string) string {
	lower, lold := strings.ToLower(s), strings.ToLower(old)
	if !strings.Contains(lower, lold) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lold)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(new)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}

package exporter

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
	"github.com/ucprobe/ucprobe/profiles"
)

// errExporterConfig is the class of every probes.yaml error.
var errExporterConfig = errors.New("invalid exporter config")

// Defaults and bounds of probes.yaml.
const (
	defaultModuleTimeout = 10 * time.Second
	maxModuleTimeout     = 5 * time.Minute
	defaultMaxConcurrent = 4
	maxMaxConcurrent     = 64
	// defaultMaxQueued probes may wait for a slot; more get 503 at once
	// (a stalled target must not pile up scrapes).
	defaultMaxQueued = 16
	maxMaxQueued     = 1024
)

// exporterFile is probes.yaml as written. Secrets are never values in this
// file: credentials are references to files or environment variables.
type exporterFile struct {
	// MaxConcurrent bounds the probes running at once across all scrapes.
	MaxConcurrent int `yaml:"max_concurrent,omitempty"`
	// MaxQueued bounds the probes waiting for a slot.
	MaxQueued int                   `yaml:"max_queued,omitempty"`
	Modules   map[string]moduleFile `yaml:"modules"`
}

type moduleFile struct {
	Profile string `yaml:"profile"`
	// TargetVar is the profile variable the URL's target fills (default server).
	TargetVar string            `yaml:"target_var,omitempty"`
	Vars      map[string]string `yaml:"vars,omitempty"`
	Timeout   profiles.Duration `yaml:"timeout,omitempty"`
	// AllowedTargets are host names, "*.domain" suffixes, IP addresses and
	// CIDR prefixes. A module needs them, or AllowAnyTarget: /probe must
	// not scan whatever host a stranger names (SSRF).
	AllowedTargets []string `yaml:"allowed_targets,omitempty"`
	AllowAnyTarget bool     `yaml:"allow_any_target,omitempty"`
	// SecretVars name vars whose values never show (debug, status, logs).
	SecretVars []string `yaml:"secret_vars,omitempty"`
	Responder  string   `yaml:"responder,omitempty"`
	// ResponderFingerprint pins the responder's self-signed certificate
	// (SHA256:..., as 'ucprobe serve' prints it); the token goes only to a
	// pinned or verified certificate.
	ResponderFingerprint string             `yaml:"responder_fingerprint,omitempty"`
	CAFile               string             `yaml:"ca_file,omitempty"`
	Media                *profiles.Duration `yaml:"media,omitempty"`
	Credentials          credentialsFile    `yaml:"credentials,omitempty"`
}

// credentialsFile references secrets; the user name may be literal.
type credentialsFile struct {
	TURNUser           string `yaml:"turn_user,omitempty"`
	TURNUserEnv        string `yaml:"turn_user_env,omitempty"`
	TURNPassFile       string `yaml:"turn_pass_file,omitempty"`
	TURNPassEnv        string `yaml:"turn_pass_env,omitempty"`
	TURNSecretFile     string `yaml:"turn_secret_file,omitempty"`
	TURNSecretEnv      string `yaml:"turn_secret_env,omitempty"`
	ResponderTokenFile string `yaml:"responder_token_file,omitempty"`
	ResponderTokenEnv  string `yaml:"responder_token_env,omitempty"`
}

// exporterConfig is a loaded, validated probes.yaml. It is immutable once
// loaded; a reload swaps in a new one.
type exporterConfig struct {
	File          string
	MaxConcurrent int
	MaxQueued     int
	Modules       map[string]*module
	// Warnings are worth a log line but not a refusal (allow_any_target).
	Warnings []string
}

// module is one probes.yaml module, ready to run.
type module struct {
	Name      string
	Profile   *profiles.Profile
	TargetVar string
	Vars      map[string]string
	Timeout   time.Duration
	Allow     allowlist
	// SecretVars are shown as [redacted] wherever vars are shown.
	SecretVars []string
	// Config is the template of each probe's probe.Config (copied per probe).
	Config probe.Config
	// CredentialRefs say where secrets come from, for the status page
	// ("turn_pass_file"); never the values.
	CredentialRefs []string
	// secrets are the loaded values, kept only to scrub debug output.
	secrets []probe.Secret
}

// redactVars replaces the values of the module's secret_vars in vars (a
// report's variables or a copy of the module's).
func (m *module) redactVars(vars map[string]string) {
	for _, k := range m.SecretVars {
		if _, ok := vars[k]; ok {
			vars[k] = "[redacted]"
		}
	}
}

// Names returns the module names, sorted.
func (c *exporterConfig) Names() []string {
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var moduleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// loadExporterConfig reads and validates probes.yaml strictly: unknown
// keys, wrong types and semantic errors are "file:line: message".
func loadExporterConfig(path string) (*exporterConfig, error) {
	data, err := profiles.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errExporterConfig, path, err)
	}
	return parseExporterConfig(path, data)
}

func parseExporterConfig(path string, data []byte) (*exporterConfig, error) {
	if err := profiles.CheckSize(data); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errExporterConfig, path, err)
	}
	var f exporterFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s: the file is empty (write modules: NAME: {profile: ...})", errExporterConfig, path)
		}
		return nil, configYAMLError(path, err)
	}
	if line, found := profiles.SecondDocument(dec); found {
		return nil, fmt.Errorf("%w: %s:%d: a second YAML document starts here; probes.yaml is one document (put every module under modules:)", errExporterConfig, path, line)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, configYAMLError(path, err)
	}
	at := func(keys ...string) string { return fmt.Sprintf("%s:%d", path, nodeLine(&root, keys...)) }
	cfg := &exporterConfig{File: path, MaxConcurrent: cmp.Or(f.MaxConcurrent, defaultMaxConcurrent),
		MaxQueued: cmp.Or(f.MaxQueued, defaultMaxQueued), Modules: map[string]*module{}}
	if cfg.MaxConcurrent < 1 || cfg.MaxConcurrent > maxMaxConcurrent {
		return nil, fmt.Errorf("%w: %s: max_concurrent %d: must be 1-%d", errExporterConfig, at("max_concurrent"), f.MaxConcurrent, maxMaxConcurrent)
	}
	if cfg.MaxQueued < 1 || cfg.MaxQueued > maxMaxQueued {
		return nil, fmt.Errorf("%w: %s: max_queued %d: must be 1-%d", errExporterConfig, at("max_queued"), f.MaxQueued, maxMaxQueued)
	}
	if len(f.Modules) == 0 {
		return nil, fmt.Errorf("%w: %s: no modules (write modules: NAME: {profile: ..., allowed_targets: [...]})", errExporterConfig, at("modules"))
	}
	dir := filepath.Dir(path)
	for name, mf := range f.Modules {
		m, err := buildModule(name, mf, dir, func(keys ...string) string { return at(append([]string{"modules", name}, keys...)...) })
		if err != nil {
			return nil, err
		}
		if m.Allow.any {
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("module %s has allow_any_target: /probe will probe any host it is given", name))
		}
		cfg.Modules[name] = m
	}
	slices.Sort(cfg.Warnings)
	return cfg, nil
}

func buildModule(name string, mf moduleFile, dir string, at func(keys ...string) string) (*module, error) {
	bad := func(where, format string, args ...any) error {
		return fmt.Errorf("%w: %s: module %s: %s", errExporterConfig, where, name, fmt.Sprintf(format, args...))
	}
	if !moduleName.MatchString(name) {
		return nil, bad(at(), "the name may hold letters, digits, '_', '-' and '.' (64 at most)")
	}
	if mf.Profile == "" {
		return nil, bad(at(), "profile is missing (a built-in id such as xphone, or a path)")
	}
	ref := mf.Profile
	if strings.ContainsAny(ref, `/\`) && !filepath.IsAbs(ref) {
		ref = filepath.Join(dir, ref)
	}
	p, err := profiles.Load(ref)
	if err != nil {
		return nil, bad(at("profile"), "%v", err)
	}
	m := &module{Name: name, Profile: p, TargetVar: mf.TargetVar, Vars: map[string]string{}, Timeout: time.Duration(mf.Timeout)}
	if m.TargetVar == "" {
		m.TargetVar = "server"
	}
	if !slices.Contains(p.VariableNames(), m.TargetVar) {
		return nil, bad(at("target_var"), "profile %s has no variable %q for the target (it has: %s); set target_var", p.ID, m.TargetVar, strings.Join(p.VariableNames(), ", "))
	}
	for k, v := range mf.Vars {
		if k == m.TargetVar {
			return nil, bad(at("vars", k), "vars sets %s, which the URL's target fills", k)
		}
		m.Vars[k] = v
	}
	// Plan once with a stand-in target: unknown and missing variables and
	// bad port values show now, not at the first scrape.
	trial := map[string]string{m.TargetVar: "target.invalid"}
	for k, v := range m.Vars {
		trial[k] = v
	}
	if _, err := p.Plan(trial); err != nil {
		return nil, bad(at("vars"), "%v", err)
	}
	if m.Timeout == 0 {
		m.Timeout = defaultModuleTimeout
	}
	if m.Timeout < 0 || m.Timeout > maxModuleTimeout {
		return nil, bad(at("timeout"), "timeout %s: must be positive and at most %s", m.Timeout, maxModuleTimeout)
	}
	switch {
	case len(mf.AllowedTargets) == 0 && !mf.AllowAnyTarget:
		return nil, bad(at(), "no allowed_targets: list the hosts, *.domains, addresses or CIDR prefixes it may probe, or set allow_any_target: true")
	case len(mf.AllowedTargets) > 0 && mf.AllowAnyTarget:
		return nil, bad(at("allow_any_target"), "give allowed_targets or allow_any_target: true, not both")
	}
	if m.Allow, err = parseAllowlist(mf.AllowedTargets); err != nil {
		return nil, bad(at("allowed_targets"), "%v", err)
	}
	for _, v := range mf.SecretVars {
		if _, ok := m.Vars[v]; !ok {
			return nil, bad(at("secret_vars"), "secret_vars names %q, which vars does not set", v)
		}
		m.SecretVars = append(m.SecretVars, v)
		m.secrets = append(m.secrets, probe.Secret(m.Vars[v]))
	}
	cfg := probe.Config{Responder: mf.Responder, Resolver: resolver,
		Media: time.Duration(p.EffectiveLimits().MediaS * float64(time.Second))}
	if mf.Media != nil {
		cfg.Media = time.Duration(*mf.Media)
	}
	if fp := mf.ResponderFingerprint; fp != "" {
		var err error
		if cfg.ResponderFingerprint, err = responder.ParseFingerprint(fp); err != nil {
			return nil, bad(at("responder_fingerprint"), "responder_fingerprint: %v", err)
		}
	}
	if mf.CAFile != "" {
		pool, err := loadCAPool(resolvePath(dir, mf.CAFile))
		if err != nil {
			return nil, bad(at("ca_file"), "%v", err)
		}
		cfg.RootCAs = pool
	}
	c := mf.Credentials
	creds := func(key, fileRef, envRef string) (probe.Secret, error) {
		switch {
		case fileRef != "" && envRef != "":
			return "", bad(at("credentials"), "give %s_file or %s_env, not both", key, key)
		case fileRef != "":
			data, err := profiles.ReadFile(resolvePath(dir, fileRef))
			if err != nil {
				return "", bad(at("credentials", key+"_file"), "%s_file %s: %v", key, fileRef, err)
			}
			s := strings.TrimRight(string(data), "\r\n")
			if s == "" {
				return "", bad(at("credentials", key+"_file"), "%s_file %s is empty", key, fileRef)
			}
			m.CredentialRefs = append(m.CredentialRefs, key+"_file")
			return probe.Secret(s), nil
		case envRef != "":
			s, ok := os.LookupEnv(envRef)
			if !ok || s == "" {
				return "", bad(at("credentials", key+"_env"), "%s_env: environment variable %s is not set", key, envRef)
			}
			m.CredentialRefs = append(m.CredentialRefs, key+"_env")
			return probe.Secret(s), nil
		}
		return "", nil
	}
	user, err := creds("turn_user", "", c.TURNUserEnv)
	if err != nil {
		return nil, err
	}
	if c.TURNUser != "" && user != "" {
		return nil, bad(at("credentials"), "give turn_user or turn_user_env, not both")
	}
	cfg.TURN.Username = c.TURNUser + user.Reveal()
	if cfg.TURN.Password, err = creds("turn_pass", c.TURNPassFile, c.TURNPassEnv); err != nil {
		return nil, err
	}
	if cfg.TURN.SharedSecret, err = creds("turn_secret", c.TURNSecretFile, c.TURNSecretEnv); err != nil {
		return nil, err
	}
	if cfg.ResponderToken, err = creds("responder_token", c.ResponderTokenFile, c.ResponderTokenEnv); err != nil {
		return nil, err
	}
	for _, s := range []probe.Secret{cfg.TURN.Password, cfg.TURN.SharedSecret, cfg.ResponderToken} {
		if s != "" {
			m.secrets = append(m.secrets, s)
		}
	}
	m.Config = cfg
	return m, nil
}

func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func loadCAPool(path string) (*x509.CertPool, error) {
	data, err := profiles.ReadFile(path) // capped: a CA bundle is kilobytes
	if err != nil {
		return nil, fmt.Errorf("ca_file %s: %v", path, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in the file", path)
	}
	return pool, nil
}

// allowlist says which targets a module may probe, so that /probe cannot
// be used to scan arbitrary hosts (SSRF).
type allowlist struct {
	any      bool
	prefixes []netip.Prefix
	names    []string // exact, lower case, no trailing dot
	suffixes []string // ".corp.example" from "*.corp.example"
}

func parseAllowlist(entries []string) (allowlist, error) {
	var a allowlist
	if len(entries) == 0 {
		a.any = true
		return a, nil
	}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if rest, ok := strings.CutPrefix(e, "*."); ok {
			if err := profiles.ValidHost(rest); err != nil || !strings.Contains(rest, ".") {
				return a, fmt.Errorf("%q: a wildcard is *.DOMAIN with a dotted domain", e)
			}
			a.suffixes = append(a.suffixes, "."+normHost(rest))
			continue
		}
		if err := profiles.ValidHost(e); err != nil {
			return a, fmt.Errorf("%q: not a host name, IP address, CIDR prefix or *.domain: %v", e, err)
		}
		a.names = append(a.names, normHost(e))
	}
	return a, nil
}

// allows reports whether host may be probed. Names match names and
// wildcards only; IP literals match addresses and prefixes only (a name is
// not resolved here: DNS answers are not the operator's declaration).
func (a allowlist) allows(host string) bool {
	if a.any {
		return true
	}
	h := normHost(host)
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap()
		for _, p := range a.prefixes {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	if slices.Contains(a.names, h) {
		return true
	}
	for _, s := range a.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// String lists the entries for the status page.
func (a allowlist) String() string {
	if a.any {
		return "any target"
	}
	var parts []string
	for _, p := range a.prefixes {
		parts = append(parts, p.String())
	}
	parts = append(parts, a.names...)
	for _, s := range a.suffixes {
		parts = append(parts, "*"+s)
	}
	return strings.Join(parts, ", ")
}

func normHost(h string) string {
	return strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
}

// nodeLine finds the line of a mapping key path in a YAML document (the
// closest existing ancestor when the key is absent).
func nodeLine(root *yaml.Node, keys ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			break
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

// configTypeNames turn yaml.v3's Go type names into the file's words; the
// names come from the types themselves, so a moved or renamed package
// cannot leave a Go name in a message.
var configTypeNames = func() *strings.Replacer {
	top, mod, creds := reflect.TypeFor[exporterFile]().String(), reflect.TypeFor[moduleFile]().String(), reflect.TypeFor[credentialsFile]().String()
	return strings.NewReplacer(
		"in type "+top, "at the top level",
		"into "+top, "where the top level (a map: modules, max_concurrent) belongs",
		"in type "+mod, "in a module",
		"into "+mod, "where a module (a map: profile, allowed_targets, ...) belongs",
		"in type "+creds, "in credentials (secrets are referenced: turn_pass_file / turn_pass_env, turn_secret_file / turn_secret_env, responder_token_file / responder_token_env)",
		"into "+creds, "where credentials (a map) belong",
		reflect.TypeFor[map[string]moduleFile]().String(), "a map of modules",
		reflect.TypeFor[profiles.Duration]().String(), "duration",
	)
}()

func configYAMLError(file string, err error) error {
	return fmt.Errorf("%w: %s", errExporterConfig, profiles.YAMLMessage(file, err, configTypeNames))
}

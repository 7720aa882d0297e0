package exporter

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
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

// String and GoString keep fmt (and slog) from printing the module: the
// values of its secret_vars are in Vars, and its loaded secrets in an
// unexported field, where fmt prints a probe.Secret in clear.
func (m module) String() string {
	profile := ""
	if m.Profile != nil {
		profile = " profile " + m.Profile.ID
	}
	return "exporter.module(" + m.Name + profile + ")"
}

// GoString: see String.
func (m module) GoString() string { return m.String() }

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
	return slices.Sorted(maps.Keys(c.Modules))
}

var moduleName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`) })

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
	return (&moduleBuilder{name: name, mf: mf, dir: dir, at: at}).build()
}

// build runs the steps and returns the module.
func (b *moduleBuilder) build() (*module, error) {
	if !moduleName().MatchString(b.name) {
		return nil, b.bad(b.at(), "the name may hold letters, digits, '_', '-' and '.' (64 at most)")
	}
	for _, step := range []func() error{b.profile, b.vars, b.limits, b.allowlist, b.secretVars, b.probeConfig, b.credentials} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.m.Config = b.cfg
	return b.m, nil
}

// moduleBuilder turns one module of probes.yaml into a module, step by
// step; every refusal names the file, line and module.
type moduleBuilder struct {
	name string
	mf   moduleFile
	dir  string
	at   func(keys ...string) string
	m    *module
	cfg  probe.Config
}

// String and GoString keep fmt (and slog) from printing the builder:
// its probe.Config and the module file's vars (secret_vars among them)
// sit in unexported fields, where fmt prints a probe.Secret in clear.
func (b moduleBuilder) String() string { return "exporter.moduleBuilder(" + b.name + ")" }

// GoString: see String.
func (b moduleBuilder) GoString() string { return b.String() }

func (b *moduleBuilder) bad(where, format string, args ...any) error {
	return fmt.Errorf("%w: %s: module %s: %s", errExporterConfig, where, b.name, fmt.Sprintf(format, args...))
}

// profile loads the module's profile (a path is relative to probes.yaml).
func (b *moduleBuilder) profile() error {
	if b.mf.Profile == "" {
		return b.bad(b.at(), "profile is missing (a built-in id such as xphone, or a path)")
	}
	ref := b.mf.Profile
	if strings.ContainsAny(ref, `/\`) && !filepath.IsAbs(ref) {
		ref = filepath.Join(b.dir, ref)
	}
	p, err := profiles.Load(ref)
	if err != nil {
		return b.bad(b.at("profile"), "%v", err)
	}
	b.m = &module{Name: b.name, Profile: p, TargetVar: b.mf.TargetVar, Vars: map[string]string{}, Timeout: time.Duration(b.mf.Timeout)}
	if b.m.TargetVar == "" {
		b.m.TargetVar = "server"
	}
	if !slices.Contains(p.VariableNames(), b.m.TargetVar) {
		return b.bad(b.at("target_var"), "profile %s has no variable %q for the target (it has: %s); set target_var", p.ID, b.m.TargetVar, strings.Join(p.VariableNames(), ", "))
	}
	return nil
}

// vars takes the module's variables and plans once with a stand-in
// target: unknown and missing variables and bad port values show now, not
// at the first scrape.
func (b *moduleBuilder) vars() error {
	for k, v := range b.mf.Vars {
		if k == b.m.TargetVar {
			return b.bad(b.at("vars", k), "vars sets %s, which the URL's target fills", k)
		}
		b.m.Vars[k] = v
	}
	trial := map[string]string{b.m.TargetVar: "target.invalid"}
	for k, v := range b.m.Vars {
		trial[k] = v
	}
	if _, err := b.m.Profile.Plan(trial); err != nil {
		return b.bad(b.at("vars"), "%v", err)
	}
	return nil
}

func (b *moduleBuilder) limits() error {
	if b.m.Timeout == 0 {
		b.m.Timeout = defaultModuleTimeout
	}
	if b.m.Timeout < 0 || b.m.Timeout > maxModuleTimeout {
		return b.bad(b.at("timeout"), "timeout %s: must be positive and at most %s", b.m.Timeout, maxModuleTimeout)
	}
	return nil
}

// allowlist: a module names what it may probe, or says it may probe
// anything; /probe must not scan whatever host a stranger names.
func (b *moduleBuilder) allowlist() error {
	switch {
	case len(b.mf.AllowedTargets) == 0 && !b.mf.AllowAnyTarget:
		return b.bad(b.at(), "no allowed_targets: list the hosts, *.domains, addresses or CIDR prefixes it may probe, or set allow_any_target: true")
	case len(b.mf.AllowedTargets) > 0 && b.mf.AllowAnyTarget:
		return b.bad(b.at("allow_any_target"), "give allowed_targets or allow_any_target: true, not both")
	}
	var err error
	if b.m.Allow, err = parseAllowlist(b.mf.AllowedTargets); err != nil {
		return b.bad(b.at("allowed_targets"), "%v", err)
	}
	return nil
}

func (b *moduleBuilder) secretVars() error {
	for _, v := range b.mf.SecretVars {
		if _, ok := b.m.Vars[v]; !ok {
			return b.bad(b.at("secret_vars"), "secret_vars names %q, which vars does not set", v)
		}
		b.m.SecretVars = append(b.m.SecretVars, v)
		b.m.secrets = append(b.m.secrets, probe.Secret(b.m.Vars[v]))
	}
	return nil
}

// probeConfig: the responder, its pinned certificate, extra CAs and the
// media window.
func (b *moduleBuilder) probeConfig() error {
	b.cfg = probe.Config{Responder: b.mf.Responder, Resolver: resolver,
		Media: time.Duration(b.m.Profile.EffectiveLimits().MediaS * float64(time.Second))}
	if b.mf.Media != nil {
		b.cfg.Media = time.Duration(*b.mf.Media)
	}
	if fp := b.mf.ResponderFingerprint; fp != "" {
		var err error
		if b.cfg.ResponderFingerprint, err = responder.ParseFingerprint(fp); err != nil {
			return b.bad(b.at("responder_fingerprint"), "responder_fingerprint: %v", err)
		}
	}
	if b.mf.CAFile != "" {
		pool, err := probe.LoadCAFile(resolvePath(b.dir, b.mf.CAFile))
		if err != nil {
			return b.bad(b.at("ca_file"), "ca_file %s: %v", b.mf.CAFile, err)
		}
		b.cfg.RootCAs = pool
	}
	return nil
}

// credentials reads the secrets the module references (a file or an
// environment variable, never the secret itself) and remembers them so
// that nothing the exporter shows can hold them.
func (b *moduleBuilder) credentials() error {
	c := b.mf.Credentials
	user, err := b.secret("turn_user", "", c.TURNUserEnv)
	if err != nil {
		return err
	}
	if c.TURNUser != "" && user != "" {
		return b.bad(b.at("credentials"), "give turn_user or turn_user_env, not both")
	}
	b.cfg.TURN.Username = c.TURNUser + user.Reveal()
	if b.cfg.TURN.Password, err = b.secret("turn_pass", c.TURNPassFile, c.TURNPassEnv); err != nil {
		return err
	}
	if b.cfg.TURN.SharedSecret, err = b.secret("turn_secret", c.TURNSecretFile, c.TURNSecretEnv); err != nil {
		return err
	}
	if b.cfg.TURN.UserWithoutPassword() {
		key := "turn_user"
		if c.TURNUserEnv != "" {
			key = "turn_user_env"
		}
		return b.bad(b.at("credentials", key), "%s without a password: give turn_pass_file or turn_pass_env (or turn_secret_file or turn_secret_env for TURN REST credentials); the TURN checks would run unauthenticated", key)
	}
	if b.cfg.ResponderToken, err = b.secret("responder_token", c.ResponderTokenFile, c.ResponderTokenEnv); err != nil {
		return err
	}
	for _, s := range []probe.Secret{b.cfg.TURN.Password, b.cfg.TURN.SharedSecret, b.cfg.ResponderToken} {
		if s != "" {
			b.m.secrets = append(b.m.secrets, s)
		}
	}
	return nil
}

// secret reads one referenced secret: KEY_file or KEY_env, not both.
func (b *moduleBuilder) secret(key, fileRef, envRef string) (probe.Secret, error) {
	switch {
	case fileRef != "" && envRef != "":
		return "", b.bad(b.at("credentials"), "give %s_file or %s_env, not both", key, key)
	case fileRef != "":
		s, err := probe.ReadSecretFile(resolvePath(b.dir, fileRef))
		if err != nil {
			return "", b.bad(b.at("credentials", key+"_file"), "%s_file %s: %v", key, fileRef, err)
		}
		b.m.CredentialRefs = append(b.m.CredentialRefs, key+"_file")
		return s, nil
	case envRef != "":
		s, ok := os.LookupEnv(envRef)
		if !ok || s == "" {
			return "", b.bad(b.at("credentials", key+"_env"), "%s_env: environment variable %s is not set", key, envRef)
		}
		b.m.CredentialRefs = append(b.m.CredentialRefs, key+"_env")
		return probe.Secret(s), nil
	}
	return "", nil
}

func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
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
var configTypeNames = sync.OnceValue(func() *strings.Replacer {
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
})

func configYAMLError(file string, err error) error {
	return fmt.Errorf("%w: %s", errExporterConfig, profiles.YAMLMessage(file, err, configTypeNames()))
}

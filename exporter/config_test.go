package exporter

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

func TestExporterConfigErrors(t *testing.T) {
	dir := t.TempDir()
	probetest.WriteFile(t, dir, "empty.pass", "\n")
	probetest.WriteFile(t, dir, "two-line.pass", "hunter22\nhunter22\n")
	probetest.WriteFile(t, dir, "large.pass", strings.Repeat("hunter22", 1<<10))
	t.Setenv("UCPROBE_TEST_UNSET_VAR", "")
	t.Setenv("UCPROBE_TEST_TURN_USER", "hunter22")
	tests := []struct {
		name, yaml string
		want       string // substring, with file:line
	}{
		{"unknown key", "modules:\n  a:\n    profile: generic\n    allowed: [x]\n", "probes.yaml:4: field allowed not found in a module"},
		{"literal secret", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass: hunter22\n", "probes.yaml:5: field turn_pass not found in credentials (secrets are referenced"},
		{"no modules", "max_concurrent: 2\n", "probes.yaml:1: no modules"},
		{"unknown profile", "modules:\n  a:\n    profile: nosuch\n", `probes.yaml:3: module a: unknown profile "nosuch"`},
		{"bad target_var", "modules:\n  a:\n    profile: generic\n    target_var: host\n", `probes.yaml:4: module a: profile generic has no variable "host"`},
		{"vars sets target", "modules:\n  a:\n    profile: generic\n    vars:\n      server: x\n", "probes.yaml:5: module a: vars sets server"},
		{"unknown var", "modules:\n  a:\n    profile: generic\n    vars:\n      nosuch: x\n", `probes.yaml:4: module a: bad variable: --set nosuch`},
		{"missing required var", "modules:\n  a:\n    profile: estos-procall\n    target_var: server\n", "probes.yaml:2: module a: bad variable: profile estos-procall needs ucconnect"},
		{"bad port var", "modules:\n  a:\n    profile: generic\n    vars:\n      tcp: \"99999\"\n", "probes.yaml:4: module a: bad variable: tcp=\"99999\""},
		{"bad timeout", "modules:\n  a:\n    profile: generic\n    timeout: soon\n", `probes.yaml:4: "soon" is not a duration`},
		{"timeout too long", "modules:\n  a:\n    profile: generic\n    timeout: 1h\n", "probes.yaml:4: module a: timeout 1h0m0s: must be positive"},
		{"bad allowlist", "modules:\n  a:\n    profile: generic\n    allowed_targets:\n      - http://x/\n", `probes.yaml:4: module a: "http://x/": not a host name`},
		{"bad wildcard", "modules:\n  a:\n    profile: generic\n    allowed_targets: [\"*.com\"]\n", `probes.yaml:4: module a: "*.com": a wildcard is *.DOMAIN`},
		{"max_concurrent", "max_concurrent: 100\nmodules:\n  a:\n    profile: generic\n", "probes.yaml:1: max_concurrent 100: must be 1-64"},
		{"bad module name", "modules:\n  \"a b\":\n    profile: generic\n", "module a b: the name may hold"},
		{"missing pass file", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass_file: nosuch.pass\n    allowed_targets: [x.example]\n", "probes.yaml:5: module a: turn_pass_file nosuch.pass: no such file or directory"},
		{"empty pass file", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass_file: empty.pass\n    allowed_targets: [x.example]\n", "probes.yaml:5: module a: turn_pass_file empty.pass: want the secret on one line"},
		{"two-line pass file", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass_file: two-line.pass\n    allowed_targets: [x.example]\n", "probes.yaml:5: module a: turn_pass_file two-line.pass: want the secret on one line"},
		{"pass file over 4 KiB", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass_file: large.pass\n    allowed_targets: [x.example]\n", "probes.yaml:5: module a: turn_pass_file large.pass: larger than 4096 bytes; it should hold only the secret"},
		{"unset env", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass_env: UCPROBE_TEST_UNSET_VAR\n    allowed_targets: [x.example]\n", "probes.yaml:5: module a: turn_pass_env: environment variable UCPROBE_TEST_UNSET_VAR is not set"},
		{"file and env", "modules:\n  a:\n    profile: generic\n    credentials:\n      turn_pass_env: X\n      turn_pass_file: y\n    allowed_targets: [x.example]\n", "give turn_pass_file or turn_pass_env, not both"},
		{"no allowlist", "modules:\n  a:\n    profile: generic\n", "probes.yaml:2: module a: no allowed_targets: list the hosts, *.domains, addresses or CIDR prefixes it may probe, or set allow_any_target: true"},
		{"allowlist and any", "modules:\n  a:\n    profile: generic\n    allowed_targets: [x.example]\n    allow_any_target: true\n", "probes.yaml:5: module a: give allowed_targets or allow_any_target: true, not both"},
		{"unknown secret var", "modules:\n  a:\n    profile: generic\n    allowed_targets: [x.example]\n    secret_vars: [tcp]\n", `probes.yaml:5: module a: secret_vars names "tcp", which vars does not set`},
		{"max_queued", "max_queued: 5000\nmodules:\n  a:\n    profile: generic\n", "probes.yaml:1: max_queued 5000: must be 1-1024"},
		{"second document", "modules:\n  a:\n    profile: generic\n    allow_any_target: true\n---\nmodules: {}\n", "probes.yaml:5: a second YAML document starts here"},
		{"over the size cap", "# " + strings.Repeat("x", 1<<20) + "\nmodules: {}\n", "probes.yaml: file too large: over 1024 KiB"},
		{"not yaml", "modules: [\n", "probes.yaml:"},
		{"empty file", "", "probes.yaml: the file is empty"},
		{"bad fingerprint", "modules:\n  a:\n    profile: generic\n    responder_fingerprint: SHA1:abcd\n    allowed_targets: [x.example]\n", "probes.yaml:4: module a: responder_fingerprint"},
		{"turn user without password", "modules:\n  a:\n    profile: generic\n    allowed_targets: [x.example]\n    credentials:\n      turn_user: alice\n", "probes.yaml:6: module a: turn_user without a password"},
		{"turn user env without password", "modules:\n  a:\n    profile: generic\n    allowed_targets: [x.example]\n    credentials:\n      turn_user_env: UCPROBE_TEST_TURN_USER\n", "probes.yaml:6: module a: turn_user_env without a password"},
		{"bad ca file", "modules:\n  a:\n    profile: generic\n    ca_file: empty.pass\n    allowed_targets: [x.example]\n", "probes.yaml:4: module a: ca_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := probetest.WriteFile(t, dir, "probes.yaml", tc.yaml)
			_, err := loadExporterConfig(p)
			if err == nil {
				t.Fatalf("no error for\n%s", tc.yaml)
			}
			if !errors.Is(err, errExporterConfig) {
				t.Errorf("error is not errExporterConfig: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter22") {
				t.Errorf("error leaks a secret: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestExporterConfigValid(t *testing.T) {
	dir := t.TempDir()
	probetest.WriteFile(t, dir, "turn.pass", "s3cret-pass\n")
	t.Setenv("UCPROBE_TEST_TOKEN", "tok-123456")
	p := probetest.WriteFile(t, dir, "probes.yaml", `
max_concurrent: 3
modules:
  site:
    profile: xphone
    vars: {turn: turn.example.com}
    timeout: 20s
    allowed_targets: [xphone.corp.example, "*.sites.example", 10.1.0.0/16, "2001:db8::1"]
    credentials:
      turn_user: alice
      turn_pass_file: turn.pass
      responder_token_env: UCPROBE_TEST_TOKEN
    responder: xphone.corp.example
    responder_fingerprint: SHA256:AB2B0D7A4DE5C3A36B0E1A2C6F8D9E0A1B2C3D4E5F60718293A4B5C6D7E8F901
  open:
    profile: generic
    allow_any_target: true
    vars: {tcp: "8443"}
    secret_vars: [tcp]
`)
	cfg, err := loadExporterConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConcurrent != 3 || cfg.MaxQueued != defaultMaxQueued {
		t.Errorf("max_concurrent %d, max_queued %d, want 3, %d", cfg.MaxConcurrent, cfg.MaxQueued, defaultMaxQueued)
	}
	m := cfg.Modules["site"]
	if m.TargetVar != "server" || m.Timeout.Seconds() != 20 || m.Vars["turn"] != "turn.example.com" {
		t.Errorf("module site = %+v", m)
	}
	if m.Config.TURN.Username != "alice" || m.Config.TURN.Password.Reveal() != "s3cret-pass" || m.Config.ResponderToken.Reveal() != "tok-123456" {
		t.Errorf("credentials not loaded: user %q", m.Config.TURN.Username)
	}
	if fp := m.Config.ResponderFingerprint; !strings.EqualFold(fp, "SHA256:ab2b0d7a4de5c3a36b0e1a2c6f8d9e0a1b2c3d4e5f60718293a4b5c6d7e8f901") {
		t.Errorf("responder fingerprint %q", fp)
	}
	if got := strings.Join(m.CredentialRefs, ","); got != "turn_pass_file,responder_token_env" {
		t.Errorf("credential refs %q", got)
	}
	if open := cfg.Modules["open"]; open.Timeout != defaultModuleTimeout || !open.Allow.any {
		t.Errorf("module open: timeout %s, any %v", open.Timeout, open.Allow.any)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "module open has allow_any_target") {
		t.Errorf("warnings %q", cfg.Warnings)
	}
	vars := map[string]string{"tcp": "8443", "server": "x"}
	cfg.Modules["open"].redactVars(vars)
	if vars["tcp"] != "[redacted]" || vars["server"] != "x" {
		t.Errorf("secret_vars [tcp] redacted %v", vars)
	}
}

func TestAllowlist(t *testing.T) {
	a, err := parseAllowlist([]string{"xphone.corp.example", "*.sites.example", "10.1.0.0/16", "2001:db8::1", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		want bool
	}{
		{"xphone.corp.example", true},
		{"XPHONE.corp.example.", true},
		{"other.corp.example", false},
		{"a.sites.example", true},
		{"a.b.sites.example", true},
		{"sites.example", false},
		{"evilsites.example", false},
		{"10.1.200.3", true},
		{"10.2.0.1", false},
		{"::ffff:10.1.0.9", true},
		{"2001:db8::1", true},
		{"[2001:db8::1]", true},
		{"2001:db8::2", false},
		{"192.0.2.7", true},
		{"192.0.2.8", false},
		{"127.0.0.1", false},
		{"localhost", false},
	}
	for _, tc := range tests {
		if got := a.allows(tc.host); got != tc.want {
			t.Errorf("allows(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

// TestExporterConfigExample keeps scripts/monitoring/probes.example.yaml
// valid (its secret file is replaced by a temporary one).
func TestExporterConfigExample(t *testing.T) {
	data, err := os.ReadFile("../scripts/monitoring/probes.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pass := probetest.WriteFile(t, dir, "turn.pass", "example-pass\n")
	text := strings.ReplaceAll(string(data), "/etc/ucprobe/turn.pass", pass)
	cfg, err := loadExporterConfig(probetest.WriteFile(t, dir, "probes.yaml", text))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Names(), ","); got != "generic_tcp,procall_ucconnect,xphone_site" {
		t.Errorf("modules %s", got)
	}
	if m := cfg.Modules["procall_ucconnect"]; m.TargetVar != "ucconnect" || !m.Allow.allows("x.ucconnect.de") || m.Allow.allows("x.example.com") {
		t.Errorf("procall_ucconnect: target_var %s, allowlist %s", m.TargetVar, m.Allow)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("the example has warnings: %q", cfg.Warnings)
	}
}

// A module and the builder that made it hold the TURN password, the TURN
// REST secret, the responder token and the values of secret_vars, partly
// in unexported fields, where fmt prints a probe.Secret in clear: printed
// any way, neither shows one, nor does the config holding the module.
func TestModuleNeverPrintsSecrets(t *testing.T) {
	dir := t.TempDir()
	probetest.WriteFile(t, dir, "turn.pass", "pass-s3cret-mod\n")
	t.Setenv("UCPROBE_TEST_TURN_SECRET", "rest-s3cret-mod")
	t.Setenv("UCPROBE_TEST_TOKEN", "tok-s3cret-mod")
	secrets := []string{"pass-s3cret-mod", "rest-s3cret-mod", "tok-s3cret-mod", "var-s3cret-mod"}
	b := &moduleBuilder{name: "site", dir: dir, at: func(...string) string { return "probes.yaml:1" }, mf: moduleFile{
		Profile: "xphone", Vars: map[string]string{"turn": "var-s3cret-mod"}, SecretVars: []string{"turn"},
		AllowedTargets: []string{"xphone.corp.example"},
		Credentials: credentialsFile{TURNUser: "alice", TURNPassFile: "turn.pass",
			TURNSecretEnv: "UCPROBE_TEST_TURN_SECRET", ResponderTokenEnv: "UCPROBE_TEST_TOKEN"}}}
	m, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.secrets) != len(secrets) || b.cfg.ResponderToken.Reveal() != "tok-s3cret-mod" {
		t.Fatalf("the module holds %d secrets, want %d: the test proves nothing", len(m.secrets), len(secrets))
	}
	cfg := &exporterConfig{File: "probes.yaml", Modules: map[string]*module{"site": m}}
	for _, tc := range []struct {
		name, want string
		v          any
	}{
		{"module", "site", m}, {"module value", "site", *m},
		{"builder", "site", b}, {"builder value", "site", *b},
		{"config", "probes.yaml", cfg},
	} {
		probetest.NoSecretPrinted(t, tc.name, tc.v, tc.want, secrets...)
	}
}

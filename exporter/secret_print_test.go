package exporter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

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
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			t.Run(tc.name+" "+verb, func(t *testing.T) {
				out := fmt.Sprintf(verb, tc.v)
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%q in %s", s, out)
					}
				}
				if !strings.Contains(out, tc.want) {
					t.Errorf("%s does not name %q", out, tc.want)
				}
			})
		}
	}
}

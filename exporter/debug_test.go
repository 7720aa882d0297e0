package exporter

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// TestExporterDebugHidesSecrets: ?debug=true, the status page and the log
// show neither the TURN password, nor the responder token, nor a variable
// marked secret; they say where each comes from instead.
func TestExporterDebugHidesSecrets(t *testing.T) {
	const (
		pass  = "turn-pass-Zq81"
		token = "responder-tok-Wm42"
		path  = "/ws?key=path-secret-Kx77"
	)
	open := probetest.SilentTCPListener(t)
	dir := t.TempDir()
	probetest.WriteFile(t, dir, "turn.pass", pass+"\n")
	t.Setenv("UCPROBE_TEST_RESPONDER_TOKEN", token)
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", fmt.Sprintf(`
modules:
  a:
    profile: generic
    vars: {tcp: "%d", ws_path: "%s"}
    secret_vars: [ws_path]
    allowed_targets: [127.0.0.1]
    credentials:
      turn_user: alice
      turn_pass_file: turn.pass
      responder_token_env: UCPROBE_TEST_RESPONDER_TOKEN
`, open, path)))
	code, dbg := s.get(t, "/probe?module=a&target=127.0.0.1&debug=true", "10")
	if code != http.StatusOK {
		t.Fatalf("debug: HTTP %d (output not printed: it may hold secrets if redaction broke)", code)
	}
	for _, want := range []string{"ws_path:[redacted]", `"ws_path": "[redacted]"`, "credentials: turn_pass_file, responder_token_env", "probe_success 1"} {
		if !strings.Contains(dbg, want) {
			t.Errorf("debug output lacks %q", want)
		}
	}
	_, page := s.get(t, "/", "")
	_, metrics := s.get(t, "/probe?module=a&target=127.0.0.1", "10")
	for what, text := range map[string]string{"debug output": dbg, "status page": page, "metrics": metrics, "log": s.logs.String()} {
		for _, secret := range []string{pass, token, "path-secret-Kx77"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q", what, secret)
			}
		}
	}
}

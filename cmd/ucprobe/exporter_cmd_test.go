package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

func TestExporterCommandCheck(t *testing.T) {
	dir := t.TempDir()
	good := probetest.WriteFile(t, dir, "good.yaml", "modules:\n  site:\n    profile: generic\n    allow_any_target: true\n")
	bad := probetest.WriteFile(t, dir, "bad.yaml", "modules:\n  site:\n    profile: generic\n    timeout: 5\n")
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"exporter", "--config", good, "--check"}, 0, "site: profile generic, target -> server, timeout 10s, allowed: any target", ""},
		{[]string{"exporter", "--config", good, "--check"}, 0, "warning: module site has allow_any_target", ""},
		{[]string{"exporter", "--config", bad, "--check"}, 3, "", "bad.yaml:4: "},
		{[]string{"exporter", "--config", filepath.Join(dir, "nosuch.yaml")}, 3, "", "nosuch.yaml: no such file or directory"},
		{[]string{"exporter", "--config", good, "--listen", "127.0.0.1:99999"}, 3, "", "--listen 127.0.0.1:99999"},
		{[]string{"exporter"}, 3, "", "config"},
	}
	for _, tc := range tests {
		code, out, errOut := ucprobe(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d\nstdout %s\nstderr %s\nwant exit %d, stdout with %q, one stderr line with %q", tc.args, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}
}

// TestRunFormatPrometheus: the textfile mode writes the same metrics,
// atomically, with labels that keep several files apart.
func TestRunFormatPrometheus(t *testing.T) {
	closed := probetest.ClosedTCPPort(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "ucprobe.prom")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"ucprobe", "run", "--profile", "generic", "--server", "127.0.0.1",
		"--set", fmt.Sprintf("tcp=%d", closed), "--format", "prometheus", "--output", out, "--timeout", "5s", "--label", "site=berlin"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2 (failed); stderr %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mfs := probetest.ParseMetrics(t, string(data))
	l := map[string]string{"profile": "generic", "target": "127.0.0.1", "site": "berlin"}
	if v, ok := probetest.MetricValue(mfs, "probe_success", l); !ok || v != 0 {
		t.Errorf("probe_success%v = %v (%v), want 0\n%s", l, v, ok, data)
	}
	if v, ok := probetest.MetricValue(mfs, "ucprobe_finding", map[string]string{"cause": "port-closed", "target": "127.0.0.1"}); !ok || v != 1 {
		t.Errorf("ucprobe_finding{port-closed} = %v (%v)", v, ok)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left next to the output: %v", entries)
	}
}

func TestRunBadLabel(t *testing.T) {
	tests := []struct{ label, want string }{
		{"site", "write NAME=VALUE"},
		{"2x=y", "is not a label name"},
		{"__x=y", "reserved"},
		{"cause=y", "a label of ucprobe's own metrics"},
		{"target=y", "target is set by ucprobe"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"ucprobe", "run", "--profile", "generic", "--server", "127.0.0.1",
			"--format", "prometheus", "--label", tc.label}, &stdout, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code != 3 || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") != 0 {
			t.Errorf("--label %s: exit %d %q, want 3 and one line containing %q", tc.label, code, msg, tc.want)
		}
	}
}

// TestExporterWebConfigErrors: a bad --web.config.file stops the start
// with one line naming the file.
func TestExporterWebConfigErrors(t *testing.T) {
	dir := t.TempDir()
	probes := probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	for name, content := range map[string]string{
		"unknown-key.yml": "tls_server_config:\n  cert_fiel: x\n",
		"no-key.yml":      "tls_server_config:\n  cert_file: /nonexistent/cert.pem\n",
		"plain-pass.yml":  "basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n",
	} {
		path := probetest.WriteFile(t, dir, name, content)
		code, _, errOut := ucprobe(t, "exporter", "--config", probes, "--web.config.file", path, "--listen", "127.0.0.1:0")
		line := strings.TrimSpace(errOut)
		if code != 3 || !strings.Contains(line, "--web.config.file "+path+": ") || strings.Contains(line, "\n") {
			t.Errorf("%s: exit %d, stderr %q; want exit 3 and one line naming the file", name, code, errOut)
		}
	}
	code, _, errOut := ucprobe(t, "exporter", "--config", probes, "--max-connections", "0")
	if code != 3 || !strings.Contains(errOut, "--max-connections 0: must be 1-65536") {
		t.Errorf("--max-connections 0: exit %d %q", code, errOut)
	}
}

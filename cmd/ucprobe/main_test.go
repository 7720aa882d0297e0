package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/report"
)

// ucprobe runs the CLI in-process and returns exit code, stdout, stderr.
func ucprobe(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"ucprobe"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMain(m *testing.M) {
	resolver = probetest.NXResolver{}
	os.Exit(m.Run())
}

func TestProfilesList(t *testing.T) {
	code, out, _ := ucprobe(t, "profiles", "list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, id := range []string{"estos-procall", "estos-ucserver", "xphone", "imagicle-ucx", "swyx-hostedpbx", "generic"} {
		if !strings.Contains(out, "\n"+id+" ") {
			t.Errorf("profiles list lacks %s:\n%s", id, out)
		}
	}
	code, out, _ = ucprobe(t, "profiles", "show", "xphone")
	if code != 0 || !strings.Contains(out, "port: 2230") {
		t.Errorf("profiles show: exit %d\n%s", code, out)
	}
}

func decode(t *testing.T, out string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return r
}

// The "done shows": a listener on 2230 passes the check; nothing
// there is port-closed and exit 2. The profile's port is fixed, so the
// address is the test's own (probetest.LoopbackIP), where no other process
// listens: that the port cannot be bound there is a broken environment
// (a failure under UCPROBE_CI=1), not a reason to skip half the test.
func TestRunXPhoneLoopback(t *testing.T) {
	ip := probetest.LoopbackIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "2230"))
	if err != nil {
		probetest.Unavailable(t, "cannot listen on %s:2230: %v", ip, err)
	}
	probetest.AcceptAndClose(t, ln)
	code, out, errOut := ucprobe(t, "run", "--profile", "xphone", "--server", ip, "--format", "json")
	r := decode(t, out)
	if c := r.Check("signalling"); c == nil || c.Status != "pass" {
		t.Fatalf("signalling %+v; stderr %s", c, errOut)
	}
	if code != 0 || r.Verdict != report.VerdictOK {
		t.Errorf("exit %d verdict %s findings %+v", code, r.Verdict, r.Findings)
	}

	// Closed now, and bound by nobody since (the address is this test's).
	ln.Close()
	code, out, errOut = ucprobe(t, "run", "--profile", "xphone", "--server", ip, "--format", "json")
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", code, errOut)
	}
	r = decode(t, out)
	if r.Schema != "ucprobe/report/v1" || r.Verdict != report.VerdictFailed {
		t.Errorf("schema %q verdict %q", r.Schema, r.Verdict)
	}
	if h := r.Headline(); h == nil || h.Cause != cause.PortClosed || h.Evidence[0] != "signalling" {
		t.Errorf("headline %+v, want port-closed for signalling", h)
	}
}

func TestRunOutputFileAndSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	code, out, errOut := ucprobe(t, "run", "--profile", "estos-procall", "--set", "ucconnect=127.0.0.2",
		"--turn-user", "alice", "--turn-pass", "s3cr3t-pass", "--turn-secret", "rest-s3cr3t", "--format", "json", "--output", path, "--debug")
	if code == 3 {
		t.Fatalf("exit 3: %s", errOut)
	}
	if out != "" {
		t.Errorf("stdout not empty with --output: %q", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, string(data))
	for _, s := range []string{string(data), errOut} {
		if strings.Contains(s, "s3cr3t-pass") || strings.Contains(s, "rest-s3cr3t") {
			t.Fatal("a secret reached the output")
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(badYAML, []byte("id: bad\nproduct: x\npurpose: y\nsource: z\nchecks:\n  - id: a\n    kind: tcp\n    target: h\n    port: 1\n    colour: red\n"), 0o600)
	notPEM := filepath.Join(dir, "ca.pem")
	_ = os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown profile", []string{"run", "--profile", "nosuch", "--server", "h"}, `unknown profile "nosuch"`},
		{"malformed profile", []string{"run", "--profile", badYAML, "--server", "h"}, "bad.yaml:10: field colour not found"},
		{"missing server", []string{"run", "--profile", "xphone"}, "needs server"},
		{"bad --set", []string{"run", "--profile", "xphone", "--server", "h", "--set", "turn"}, `--set "turn"`},
		{"unknown variable", []string{"run", "--profile", "xphone", "--server", "h", "--set", "trun=x"}, `no variable "trun"`},
		{"bad port range", []string{"run", "--profile", "generic", "--server", "h", "--set", "udp=33000-30000"}, "reversed"},
		{"unreadable ca-file", []string{"run", "--profile", "xphone", "--server", "h", "--ca-file", filepath.Join(dir, "none.pem")}, "--ca-file"},
		{"ca-file without PEM", []string{"run", "--profile", "xphone", "--server", "h", "--ca-file", notPEM}, "no PEM certificate"},
		{"unresolvable server", []string{"run", "--profile", "xphone", "--server", "nosuch.example"}, "nosuch.example does not exist"},
		{"bad format", []string{"run", "--profile", "xphone", "--server", "h", "--format", "xml"}, `--format "xml"`},
		{"unknown flag", []string{"run", "--profile", "xphone", "--sever", "h"}, "sever"},
		{"unknown command", []string{"rnu"}, `unknown command "rnu"`},
		{"turn user without password", []string{"run", "--profile", "xphone", "--server", "h", "--turn-user", "alice"}, `--turn-user "alice" without a password`},
		{"validate bad file", []string{"profiles", "validate", badYAML}, "bad.yaml:10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := ucprobe(t, tt.args...)
			if code != 3 {
				t.Fatalf("exit %d, want 3; stderr %q", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q: want one line containing %q", errOut, tt.want)
			}
			if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
				t.Errorf("stack trace: %s", errOut)
			}
		})
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

func sampleReport(t *testing.T) *Report {
	t.Helper()
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	checks := []probe.Result{
		check("signalling", probe.KindTCP).at("127.0.0.1", "").port(2230).target("127.0.0.1:2230").failed(probe.ClassRefused).
			err("dial tcp 127.0.0.1:2230: connect: connection refused").details(probe.Details{TCP: &probe.TCPDetails{ConnectMS: 0.2}}).
			with(func(r *probe.Result) { r.DurationMS = 0.21 }).r(),
		check("media-range", probe.KindUDPRange).target("127.0.0.1:30000-33000").skipped("").err("needs a ucprobe responder").
			details(probe.Details{Skipped: "needs a ucprobe responder", SkipReason: probe.SkipNoResponder}).r(),
	}
	env := probe.Environment{Interfaces: []probe.Interface{{Name: "lo", Kind: probe.IfLoopback, Addrs: []string{"127.0.0.1/8"}, MTU: 65536, Up: true}}}
	started := time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	return Build(p, map[string]string{"server": "127.0.0.1"}, "test", started, 420*time.Millisecond, checks, env, probe.RunInfo{})
}

// The JSON contract of DESIGN.md: decode it back generically and check
// every field the contract names.
func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sampleReport(t)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"schema": "ucprobe/report/v1", "profile": "xphone", "verdict": "failed", "duration_ms": 420.0, "started": "2026-11-23T01:02:03Z"} {
		if doc[key] != want {
			t.Errorf("%s = %v, want %v", key, doc[key], want)
		}
	}
	checks := doc["checks"].([]any)
	if len(checks) != 2 {
		t.Fatalf("%d checks", len(checks))
	}
	c := checks[0].(map[string]any)
	for _, key := range []string{"id", "kind", "target", "status", "error_class", "error", "duration_ms", "details"} {
		if _, ok := c[key]; !ok {
			t.Errorf("check lacks %q: %v", key, c)
		}
	}
	if c["status"] != "fail" || c["error_class"] != "refused" || c["kind"] != "tcp" {
		t.Errorf("check %v", c)
	}
	if _, ok := c["details"].(map[string]any)["tcp"]; !ok {
		t.Errorf("details lack tcp evidence: %v", c["details"])
	}
	if s := checks[1].(map[string]any); s["status"] != "skip" || s["error_class"] != "" {
		t.Errorf("skipped check %v", s)
	}
	fs := doc["findings"].([]any)
	if len(fs) != 2 || fs[1].(map[string]any)["cause"] != "untested" {
		t.Fatalf("findings %v, want port-closed and untested", fs)
	}
	f := fs[0].(map[string]any)
	for _, key := range []string{"cause", "severity", "title", "detail", "evidence", "remedy", "refs"} {
		if _, ok := f[key]; !ok {
			t.Errorf("finding lacks %q", key)
		}
	}
	if f["cause"] != "port-closed" || f["severity"] != "critical" || f["evidence"].([]any)[0] != "signalling" || !strings.HasPrefix(f["refs"].([]any)[0].(string), `C4B, "Why are softphone calls not connected`) {
		t.Errorf("finding %v", f)
	}
	env := doc["environment"].(map[string]any)
	for _, key := range []string{"interfaces", "routes", "vpn"} {
		if _, ok := env[key]; !ok {
			t.Errorf("environment lacks %q", key)
		}
	}
	// Round trip into the typed model.
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Checks[0].Class != probe.ClassRefused || back.Findings[0].Cause != cause.PortClosed || back.Verdict.ExitCode() != 2 {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestTextReport(t *testing.T) {
	rep := sampleReport(t)
	var buf bytes.Buffer
	if err := WriteText(&buf, rep, TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Verdict: FAILED (1 critical, 1 info)", "Cause: CRITICAL port-closed", "Nothing listens on TCP 2230 at 127.0.0.1",
		"What to do:", `Source: C4B, "Why are softphone calls`, "FAIL signalling", "skip media-range", "Environment", "lo: loopback"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	// The headline comes before the checks table.
	if strings.Index(out, "port-closed") > strings.Index(out, "Checks") {
		t.Error("the cause must come before the checks")
	}
	for i, line := range strings.Split(out, "\n") {
		if len(line) > 80 {
			t.Errorf("line %d is %d columns: %q", i+1, len(line), line)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes without Color")
	}
	buf.Reset()
	_ = WriteText(&buf, rep, TextOptions{Color: true})
	if !strings.Contains(buf.String(), "\x1b[31m") {
		t.Error("no colour with Color")
	}
}

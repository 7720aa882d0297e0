package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

func TestJUnit(t *testing.T) {
	r := htmlSamples(t)["blocked-range"]
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 3 || doc.Failures != 1 || s.Tests != 3 || s.Failures != 1 || len(s.Cases) != 3 {
		t.Fatalf("counts: tests %d failures %d cases %d", doc.Tests, doc.Failures, len(s.Cases))
	}
	byID := map[string]junitCase{}
	for _, c := range s.Cases {
		byID[strings.SplitN(c.Name, ":", 2)[0]] = c
	}
	f := byID["media-range"].Failure
	if f == nil || f.Type != "udp-port-range-blocked" || !strings.Contains(f.Text, "What to do: Open UDP 30000-33000") ||
		!strings.Contains(f.Text, `section "Cause 1"`) {
		t.Errorf("media-range failure %+v", f)
	}
	if byID["signalling"].Failure != nil || byID["ice"].Failure != nil {
		t.Error("passing checks carry a failure")
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	if props["label.operator"] != "jane" || props["verdict"] != "failed" || props["var.server"] != "pbx.example" {
		t.Errorf("properties %v", props)
	}

	// Validated against the JUnit XML schema CI servers read.
	lint := probetest.NeedBinary(t, "xmllint", "libxml2-utils")
	path := filepath.Join(t.TempDir(), "r.xml")
	for name, rep := range htmlSamples(t) {
		var out bytes.Buffer
		if err := WriteJUnit(&out, rep); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(lint, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput(); err != nil {
			t.Errorf("%s: not valid JUnit XML: %v\n%s", name, err, msg)
		}
	}
}

package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

func TestJUnit(t *testing.T) {
	r := htmlSamples(t)["blocked-range"]
	r.Checks = append(r.Checks, check("peer-ice", probe.KindICE).noResponder().r())
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 1 || s.Tests != 4 || s.Failures != 1 || s.Skipped != 1 || len(s.Cases) != 4 {
		t.Fatalf("counts: tests %d failures %d skipped %d cases %d", doc.Tests, doc.Failures, doc.Skipped, len(s.Cases))
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
	// A skip carries its typed reason (skip_reason) as the type, and why
	// in words as the message.
	if sk := byID["peer-ice"].Skipped; sk == nil || sk.Type != string(probe.SkipNoResponder) || !strings.Contains(sk.Message, "needs a ucprobe responder") {
		t.Errorf("peer-ice skipped %+v, want type %q", sk, probe.SkipNoResponder)
	}
	if !strings.Contains(b.String(), `<skipped message="needs a ucprobe responder at the far end" type="no-responder">`) {
		t.Errorf("no typed skipped element in\n%s", b.String())
	}
	for id, c := range byID {
		if id != "peer-ice" && c.Skipped != nil {
			t.Errorf("%s: a check that ran is skipped: %+v", id, c.Skipped)
		}
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
	samples := htmlSamples(t)
	samples["blocked-range with a skip"] = r
	for name, rep := range samples {
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

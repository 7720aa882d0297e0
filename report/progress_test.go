package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	s := probe.Spec{ID: "signalling", Kind: probe.KindTCP, Target: "pbx.example:2230\x1b[2J", Host: "pbx.example", Address: "192.0.2.10"}
	var wg sync.WaitGroup
	for _, ev := range []probe.ProgressEvent{
		{Spec: s},
		{Spec: s, Done: true, Result: probe.Result{Status: probe.StatusFail, Class: probe.ClassTimeout, DurationMS: 3000}},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); p.Event(ev) }()
		wg.Wait()
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a start and an end line, got %q", b.String())
	}
	if !strings.Contains(lines[0], "signalling") || !strings.Contains(lines[0], "tcp pbx.example:2230") || !strings.Contains(lines[0], "(192.0.2.10)") {
		t.Errorf("start line %q", lines[0])
	}
	if !strings.Contains(lines[1], "FAIL") || !strings.Contains(lines[1], "3.00 s timeout") {
		t.Errorf("end line %q", lines[1])
	}
	if strings.ContainsRune(b.String(), '\x1b') {
		t.Errorf("a control sequence reached the terminal (no colour asked): %q", b.String())
	}
	b.Reset()
	NewProgress(&b, true).Event(probe.ProgressEvent{Spec: s, Done: true, Result: probe.Result{Status: probe.StatusPass}})
	if !strings.Contains(b.String(), ansiGreen+"ok") {
		t.Errorf("colour asked, got %q", b.String())
	}
}

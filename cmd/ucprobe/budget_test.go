package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/report"
)

// A deadline below what any diagnosis needs is still a report: cut-short
// names the least deadline that would do, and the exit code is 3 only when
// nothing finished.
func TestDeadlineTooShort(t *testing.T) {
	code, out, errOut := ucprobe(t, "run", "--profile", "xphone", "--server", "127.0.0.2", "--timeout", "150ms", "--format", "json")
	if code != report.ExitUnknown {
		t.Fatalf("exit %d, want 3 (nothing finished); stderr %s", code, errOut)
	}
	r := decode(t, out)
	if r.Budget == nil || r.Budget.MinDeadlineMS <= 150 || r.Budget.Interrupted {
		t.Fatalf("budget %+v, want a minimum above the 150 ms given, not interrupted", r.Budget)
	}
	h := r.Headline()
	if h == nil || h.Cause != cause.CutShort || h.Facts["min_deadline"] == "" ||
		!strings.Contains(h.Title, "is below the") || !strings.Contains(h.Detail, "--timeout") {
		t.Fatalf("headline %+v, want cut-short naming the minimum deadline", h)
	}
}

// Ctrl-C mid-run still reports what was gathered and says it was
// interrupted, not cut short by the deadline.
func TestInterruptedRun(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0") // answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	port := strconv.Itoa(silent.LocalAddr().(*net.UDPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C once the STUN check is under way: its first request arrived.
	go func() {
		if _, _, err := silent.ReadFrom(make([]byte, 1500)); err == nil {
			cancel()
		}
	}()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"ucprobe", "run", "--profile", "generic", "--server", "127.0.0.1", "--set", "tcp=",
		"--set", "stun=" + port, "--timeout", "10s", "--format", "json"}, &out, &errOut)
	r := decode(t, out.String())
	if r.Budget == nil || !r.Budget.Interrupted {
		t.Fatalf("exit %d budget %+v, want interrupted; stderr %s", code, r.Budget, errOut.String())
	}
	h := r.Headline()
	if h == nil || h.Cause != cause.CutShort || !strings.Contains(h.Title, "interrupted") || strings.Contains(h.Title, "deadline") {
		t.Errorf("headline %+v, want cut-short saying interrupted", h)
	}
	if c := r.Check("stun"); c == nil || c.Class != "canceled" {
		t.Errorf("stun %+v, want canceled", c)
	}
}

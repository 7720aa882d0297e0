package profiles_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// A new check kind is its prober and one registration: the profile loader,
// the planner, the runner and the diagnosis take it from there. This toy
// kind connects over TCP like the tcp kind.
func toy(ctx context.Context, spec probe.Spec, _ *probe.Config) probe.Result {
	res := probe.NewResult(spec)
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(spec.DialHost(), strconv.Itoa(spec.Port)))
	if err != nil {
		res.Fail(probe.Classify(err), err)
		return res
	}
	c.Close()
	return res
}

func init() {
	probe.RegisterKind(probe.KindInfo{Kind: "toy", Prober: toy, PerAddress: true, PerPort: true, NeedsPort: true, Over: probe.TransportTCP})
}

func TestToyKind(t *testing.T) {
	closed := probetest.ClosedTCPPort(t)
	p, err := profiles.Parse("toy.yaml", []byte(`id: toy
product: Toy
purpose: a kind added in one file
checks:
  - id: t
    kind: toy
    target: 127.0.0.1
    ports: `+strconv.Itoa(closed)+`
`))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := p.Plan(nil)
	if err != nil || len(specs) != 1 || specs[0].Kind != "toy" {
		t.Fatalf("plan %+v, %v", specs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	results := (&probe.Runner{Probers: probe.DefaultProbers()}).Run(ctx, specs)
	r := results[len(results)-1]
	if r.Status != probe.StatusFail || r.Class != probe.ClassRefused {
		t.Fatalf("toy check %s %s: %s", r.Status, r.Class, r.Error)
	}
	rep := report.Build(p, nil, "test", time.Now(), time.Second, results, probe.Environment{}, probe.RunInfo{})
	if h := rep.Headline(); h == nil || h.Cause != cause.PortClosed {
		t.Errorf("the diagnosis of a refused toy check: %+v, want port-closed (it reads the kind's transport)", rep.Findings)
	}
	if _, err := profiles.Parse("bad.yaml", []byte("id: bad\nproduct: B\npurpose: p\nchecks:\n  - id: t\n    kind: toy\n    target: h\n")); err == nil {
		t.Error("the registry's NeedsPort was not enforced")
	}
}

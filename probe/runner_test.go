package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// fakeResolver answers from a table; names not in it are NXDOMAIN, and
// "slow.example" never answers.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if host == "slow.example" {
		<-ctx.Done()
		return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
	}
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		if (network == "ip4") == ip.Is4() {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// waitProber blocks until its context ends and reports what ended it.
func waitProber(ctx context.Context, s Spec, _ *Config) Result {
	res := NewResult(s)
	<-ctx.Done()
	res.Fail(Classify(ctx.Err()), ctx.Err())
	return res
}

func passProber(_ context.Context, s Spec, _ *Config) Result { return NewResult(s) }

func TestRunnerPerAddressAndDNS(t *testing.T) {
	cfg := &Config{Resolver: fakeResolver{
		"multi.example": {"192.0.2.10", "192.0.2.20", "2001:db8::1"},
		"one.example":   {"192.0.2.30"},
	}}
	r := &Runner{Config: cfg, Probers: map[Kind]Prober{KindTCP: passProber, KindWebSocket: passProber}}
	specs := []Spec{
		{ID: "sig", Kind: KindTCP, Host: "multi.example", Port: 2230},
		{ID: "ws", Kind: KindWebSocket, Host: "multi.example", Port: 443},
		{ID: "one", Kind: KindTCP, Host: "one.example", Port: 443},
		{ID: "gone", Kind: KindTCP, Host: "missing.example", Port: 443},
		{ID: "lit", Kind: KindTCP, Host: "192.0.2.99", Port: 443},
		{ID: "later", Kind: KindSTUN, Host: "one.example", Port: 3478},
		{ID: "resp", Kind: KindUDPRange, Host: "one.example", NeedsResponder: true},
		{ID: "opt", Kind: KindTCP, Host: "one.example", Skip: "variable x not set"},
	}
	got := map[string]Result{}
	for _, res := range r.Run(context.Background(), specs) {
		got[res.ID] = res
	}
	want := map[string]struct {
		status  Status
		class   ErrorClass
		address string
	}{
		"dns:multi.example":   {StatusPass, "", ""},
		"dns:one.example":     {StatusPass, "", ""},
		"dns:missing.example": {StatusFail, ClassDNS, ""},
		"sig@192.0.2.10":      {StatusPass, "", "192.0.2.10"},
		"sig@192.0.2.20":      {StatusPass, "", "192.0.2.20"},
		"sig@2001:db8::1":     {StatusPass, "", "2001:db8::1"},
		"ws":                  {StatusPass, "", "192.0.2.10"},
		"one":                 {StatusPass, "", "192.0.2.30"},
		"gone":                {StatusSkip, ClassDNS, ""},
		"lit":                 {StatusPass, "", ""},
		"later":               {StatusSkip, "", ""},
		"resp":                {StatusSkip, "", ""},
		"opt":                 {StatusSkip, "", ""},
	}
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d: %v", len(got), len(want), keys(got))
	}
	for id, w := range want {
		res, ok := got[id]
		if !ok {
			t.Errorf("missing result %s", id)
			continue
		}
		if res.Status != w.status || res.Class != w.class {
			t.Errorf("%s: status %s class %q (%s), want %s %q", id, res.Status, res.Class, res.Error, w.status, w.class)
		}
		if w.address != "" && res.Address != w.address {
			t.Errorf("%s: address %q, want %q", id, res.Address, w.address)
		}
	}
	if d := got["dns:multi.example"].Details.DNS; len(d.A) != 2 || len(d.AAAA) != 1 {
		t.Errorf("dns details %+v, want 2 A and 1 AAAA", d)
	}
	if d := got["dns:missing.example"].Details.DNS; !d.NotFound {
		t.Error("NXDOMAIN not marked NotFound")
	}
	if got["later"].Error != "not implemented" {
		t.Errorf("unregistered kind: %q", got["later"].Error)
	}
}

func TestRunnerDNSTimeoutIsNotNotFound(t *testing.T) {
	r := &Runner{Config: &Config{Resolver: fakeResolver{}}, Probers: DefaultProbers(), DNSTimeout: 20 * time.Millisecond}
	res := r.Run(context.Background(), []Spec{{ID: "x", Kind: KindTCP, Host: "slow.example", Port: 1}})
	if res[0].Status != StatusFail || res[0].Class != ClassDNS || res[0].Details.DNS.NotFound {
		t.Fatalf("slow resolver: %+v", res[0])
	}
}

// A check's own timeout is evidence (timeout); the run's deadline or
// Ctrl-C cutting a check short is not (skip, canceled).
func TestRunnerTimeoutVersusRunDeadline(t *testing.T) {
	r := &Runner{Probers: map[Kind]Prober{KindTCP: waitProber}, Margin: time.Millisecond}
	specs := []Spec{
		{ID: "short", Kind: KindTCP, Host: "192.0.2.1", Timeout: 10 * time.Millisecond},
		{ID: "long", Kind: KindTCP, Host: "192.0.2.1", Timeout: time.Hour},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res := r.Run(ctx, specs)
	if res[0].Status != StatusFail || res[0].Class != ClassTimeout {
		t.Errorf("short: %s %q, want fail timeout", res[0].Status, res[0].Class)
	}
	if res[1].Status != StatusSkip || res[1].Class != ClassCanceled {
		t.Errorf("long: %s %q, want skip canceled", res[1].Status, res[1].Class)
	}
	if r.Info.Interrupted || r.Info.Deadline == 0 || r.Info.MinDeadline == 0 {
		t.Errorf("deadline run: info %+v, want a deadline, a minimum, not interrupted", r.Info)
	}

	// Capped by the run's deadline, but timed out on a bound of its own
	// long before it (e.g. one signalling request): a real failure.
	ownBound := func(ctx context.Context, s Spec, _ *Config) Result {
		res := NewResult(s)
		res.Fail(ClassTimeout, errors.New("request timed out after its own bound"))
		return res
	}
	r2 := &Runner{Probers: map[Kind]Prober{KindICE: ownBound}, Margin: time.Millisecond}
	ctx3, cancel3 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel3()
	res = r2.Run(ctx3, []Spec{{ID: "ice", Kind: KindICE, Host: "192.0.2.1", Timeout: 2 * time.Hour}})
	if res[0].Status != StatusFail || res[0].Class != ClassTimeout {
		t.Errorf("own bound under a capped deadline: %s %q, want fail timeout", res[0].Status, res[0].Class)
	}

	// Ctrl-C while the check runs: cancel as it starts (an event, not a
	// sleep).
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	r.Config = &Config{Progress: func(ev ProgressEvent) {
		if !ev.Done {
			cancel2()
		}
	}}
	res = r.Run(ctx2, specs[1:])
	if res[0].Status != StatusSkip || res[0].Class != ClassCanceled {
		t.Errorf("after Ctrl-C: %s %q, want skip canceled", res[0].Status, res[0].Class)
	}
	if !r.Info.Interrupted {
		t.Errorf("after Ctrl-C: info %+v, want interrupted", r.Info)
	}
}

// A fully blocked site runs its checks in parallel: 200 checks that each
// wait for their deadline are all cut by one run deadline, and the
// concurrency bound holds.
func TestRunnerParallelBounded(t *testing.T) {
	var running, peak atomic.Int32
	prober := func(ctx context.Context, s Spec, c *Config) Result {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		return waitProber(ctx, s, c)
	}
	r := &Runner{Probers: map[Kind]Prober{KindTCP: prober}, Concurrency: 50}
	var specs []Spec
	for i := range 200 {
		specs = append(specs, Spec{ID: "c" + strconv.Itoa(i), Kind: KindTCP, Host: "192.0.2.1", Timeout: time.Hour})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res := r.Run(ctx, specs)
	if len(res) != 200 {
		t.Fatalf("%d results", len(res))
	}
	for _, x := range res {
		if x.Status != StatusSkip || x.Class != ClassCanceled {
			t.Fatalf("%s: %s %q", x.ID, x.Status, x.Class)
		}
	}
	if p := peak.Load(); p != 50 {
		t.Errorf("peak concurrency %d, want 50", p)
	}
}

func TestRunnerRecoversPanic(t *testing.T) {
	r := &Runner{Probers: map[Kind]Prober{KindTCP: func(context.Context, Spec, *Config) Result { panic("boom") }}}
	res := r.Run(context.Background(), []Spec{{ID: "p", Kind: KindTCP, Host: "192.0.2.1"}})
	if res[0].Status != StatusFail || res[0].Class != ClassProtocol {
		t.Fatalf("%+v", res[0])
	}
}

func keys(m map[string]Result) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

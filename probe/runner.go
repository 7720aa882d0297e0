package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"
)

// Prober runs one check. It must return within ctx (the runner sets a
// deadline that is the check's own bound capped by the run's deadline) and
// must not leave goroutines or sockets behind.
type Prober func(ctx context.Context, spec Spec, cfg *Config) Result

// Runner runs a plan's checks in parallel under one deadline.
type Runner struct {
	Config  *Config
	Probers map[Kind]Prober
	// Concurrency bounds how many checks run at once (default 32).
	Concurrency int
	// DNSTimeout bounds each name's resolution (default 3 s).
	DNSTimeout time.Duration
	// Margin is the diagnosis' share: kept free before the run's deadline
	// so that checks close their sockets, the environment is read and the
	// report written in time (default 200 ms: on a loaded 2-core machine
	// 100 ms was overrun by up to 120 ms).
	Margin time.Duration
	// Info is what the last Run learnt about its budget.
	Info RunInfo
}

// RunInfo is the time budget of a run, for the report.
type RunInfo struct {
	// Deadline is the run's whole budget (0: none).
	Deadline time.Duration
	// MinDeadline is the least deadline with which every check of the
	// plan can reach a conclusion on the fastest path.
	MinDeadline time.Duration
	// Interrupted: the run was stopped (Ctrl-C), not ended by its deadline.
	Interrupted bool
	// Path is what the run's round trips say about the path.
	Path PathRTT
}

// Run resolves every name of the plan, then runs all checks; it returns the
// DNS results followed by the checks in plan order. When ctx ends (Ctrl-C
// or the run deadline) what had not finished is reported as skipped with
// class canceled.
func (r *Runner) Run(ctx context.Context, specs []Spec) []Result {
	// A fresh clock per run: every silence bound follows what this run
	// measures. The caller's config is shared (the exporter reuses it).
	cfg := &Config{}
	if r.Config != nil {
		c := *r.Config
		cfg = &c
	}
	if cfg.Clock == nil {
		cfg.Clock = &Clock{}
	}
	r.Info = RunInfo{MinDeadline: MinDeadline(specs, r.margin())}
	if dl, ok := ctx.Deadline(); ok {
		r.Info.Deadline = time.Until(dl).Round(time.Millisecond)
	}
	defer func() {
		r.Info.Interrupted = ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded)
		r.Info.Path = cfg.Clock.Path()
	}()
	dnsResults, addrs := r.resolveAll(ctx, specs, cfg)

	var jobs []Spec
	var out []Result
	out = append(out, dnsResults...)
	pre := map[int]Result{} // results known without running, by job index
	for _, s := range specs {
		for _, j := range r.expand(s, cfg, addrs) {
			if j.result != nil {
				pre[len(jobs)] = *j.result
			}
			jobs = append(jobs, j.spec)
		}
	}
	results := make([]Result, len(jobs))
	sem := make(chan struct{}, max(r.Concurrency, 1))
	if r.Concurrency <= 0 {
		sem = make(chan struct{}, 32)
	}
	var wg sync.WaitGroup
	for i, s := range jobs {
		if res, ok := pre[i]; ok {
			results[i] = res
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = Canceled(s, "the run ended before this check started")
			continue
		}
		wg.Add(1)
		go func(i int, s Spec) {
			defer wg.Done()
			defer func() { <-sem }()
			started(cfg, s)
			results[i] = r.runOne(ctx, s, cfg)
			finished(cfg, s, results[i])
		}(i, s)
	}
	wg.Wait()
	return append(out, results...)
}

type job struct {
	spec   Spec
	result *Result // set when the job is decided without running
}

func (r *Runner) expand(s Spec, cfg *Config, addrs map[string][]string) []job {
	one := func(res Result) []job { return []job{{spec: s, result: &res}} }
	switch {
	case s.Skip != "":
		return one(Skipped(s, SkipVariableUnset, s.Skip))
	case s.NeedsResponder && cfg.Responder == "" && !RunsLive(s):
		return one(Skipped(s, SkipNoResponder, "needs a ucprobe responder at the far end: start `ucprobe serve` there and pass --responder HOST"))
	case r.Probers[s.Kind] == nil:
		return one(Skipped(s, SkipNotImplemented, "not implemented"))
	}
	if s.Host == "" || isIP(s.Host) {
		return []job{{spec: s}}
	}
	list, ok := addrs[s.Host]
	if ok && list == nil {
		return one(Canceled(s, fmt.Sprintf("the run ended before %s was resolved", s.Host)))
	}
	if !ok || len(list) == 0 {
		res := Skipped(s, SkipUnresolved, fmt.Sprintf("%s did not resolve (see check dns:%s)", s.Host, s.Host))
		res.Class = ClassDNS
		return one(res)
	}
	if !registry[s.Kind].PerAddress || len(list) == 1 {
		s.Address = list[0]
		return []job{{spec: s}}
	}
	out := make([]job, 0, len(list))
	for _, a := range list {
		c := s
		c.Address = a
		c.ID = s.ID + "@" + a
		out = append(out, job{spec: c})
	}
	return out
}

func (r *Runner) margin() time.Duration {
	if r.Margin <= 0 {
		return 200 * time.Millisecond
	}
	return r.Margin
}

// runOne runs one check. Its context ends where the checks' share of the
// run ends (the deadline less the diagnosis' margin), or at the profile's
// cap (timeout:) when that is earlier; without a run deadline, at
// NoDeadlineBound. A check judges silence by its own bound (the clock's),
// which ends it before that; a check still waiting when the run's share
// ends was cut short, and its silence is no evidence.
func (r *Runner) runOne(ctx context.Context, s Spec, cfg *Config) (res Result) {
	deadline := time.Now().Add(NoDeadlineBound)
	if runDeadline, ok := ctx.Deadline(); ok {
		deadline = runDeadline.Add(-r.margin())
	}
	capped := true // ended by the run's share: cut short
	if s.Timeout > 0 && time.Now().Add(s.Timeout).Before(deadline) {
		deadline, capped = time.Now().Add(s.Timeout), false // the profile's cap: a bound of its own
	}
	cctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res = NewResult(s)
			res.Fail(ClassProtocol, fmt.Errorf("internal error in %s check: %v", s.Kind, p))
			if cfg.Logger != nil {
				cfg.Logger.Error("check panicked", "check", s.ID, "panic", p, "stack", string(debug.Stack()))
			}
		}
		if res.DurationMS == 0 {
			res.DurationMS = ms(time.Since(start))
		}
		// The run itself ended (Ctrl-C), or the run's share ended the
		// check: silence cut short is not evidence. A check that timed
		// out on a bound of its own (the clock's, or the profile's cap)
		// keeps its failure.
		cutOff := ctx.Err() != nil || capped && cctx.Err() != nil
		dnsSilent := res.Kind == KindDNS && res.Class == ClassDNS && (res.Details.DNS == nil || !res.Details.DNS.NotFound)
		if cutOff && res.Status == StatusFail && (res.Class == ClassTimeout || res.Class == ClassCanceled || dnsSilent) {
			res = Canceled(s, "the run ended before this check finished")
			res.DurationMS = ms(time.Since(start))
		}
	}()
	p := r.Probers[s.Kind]
	if p == nil && s.Kind == KindDNS {
		p = DNS
	}
	return p(cctx, s, cfg)
}

// NewResult starts a result carrying the spec's identity.
func NewResult(s Spec) Result {
	port := s.Port
	return Result{
		ID: s.ID, Kind: s.Kind, Title: s.Title, Target: s.Target, Host: s.Host,
		Address: s.Address, Port: port, Transport: s.Transport, Optional: s.Optional,
		Status: StatusPass,
	}
}

// Fail marks the result failed with a class and the error's text.
func (r *Result) Fail(class ErrorClass, err error) {
	r.Status = StatusFail
	r.Class = class
	if err != nil {
		r.Error = err.Error()
	}
}

// Skipped is a result for a check that did not run: why, typed, and the
// words for people.
func Skipped(s Spec, why SkipReason, text string) Result {
	res := NewResult(s)
	res.Status = StatusSkip
	res.Error = text
	res.Details.Skipped = text
	res.Details.SkipReason = why
	return res
}

// Canceled is a result for a check the run's end cut off.
func Canceled(s Spec, reason string) Result {
	res := Skipped(s, SkipCanceled, reason)
	res.Class = ClassCanceled
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

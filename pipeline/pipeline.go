// Package pipeline runs a profile end to end: the plan, every check under
// one deadline, the environment and the diagnosis. The run and demo
// commands and the exporter share it; it renders nothing.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/ice"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// Probers are all check kinds this binary can run.
func Probers() map[probe.Kind]probe.Prober {
	m := probe.DefaultProbers()
	m[probe.KindICE] = ice.Check
	return m
}

// Job is one run of a profile.
type Job struct {
	Profile *profiles.Profile
	Vars    map[string]string // as given; defaults are filled by the plan
	Config  *probe.Config
	// Timeout is the whole run's deadline.
	Timeout time.Duration
	// Version is the ucprobe version the report names.
	Version string
}

// Run plans, runs every check under one deadline, reads the environment
// and judges. Errors are bad input (exit 3); a network failure is a
// finding, never an error.
func Run(ctx context.Context, j Job) (*report.Report, error) {
	specs, err := j.Profile.Plan(j.Vars)
	if err != nil {
		return nil, err
	}
	vars, _ := j.Profile.Vars(j.Vars)
	started := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	// A refused --token would turn every responder check into silence:
	// bad input, not a finding. Asked beside the checks (a blocked
	// responder must not cost the run time); a refusal stops them.
	checksCtx, stopChecks := context.WithCancelCause(runCtx)
	defer stopChecks(nil)
	preflight := make(chan error, 1)
	go func() {
		pctx, pcancel := context.WithTimeout(runCtx, responderPreflight)
		defer pcancel()
		err := probe.CheckResponderToken(pctx, j.Config)
		if err != nil {
			stopChecks(err)
		}
		preflight <- err
	}()
	// The environment is read even after Ctrl-C: it is quick and local.
	// Its host part (interfaces, default routes) is read beside the checks.
	hostc := make(chan probe.Host, 1)
	go func() {
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), envBound)
		defer hcancel()
		hostc <- probe.GatherHost(hctx)
	}()
	runner := &probe.Runner{Config: j.Config, Probers: Probers()}
	results := runner.Run(checksCtx, specs)
	host := <-hostc
	if err := <-preflight; err != nil {
		return nil, err
	}
	if err := nothingResolved(results); err != nil {
		return nil, err
	}
	envCtx, envCancel := context.WithTimeout(context.WithoutCancel(ctx), envBound)
	defer envCancel()
	env := host.WithChecks(envCtx, results)
	return report.Build(j.Profile, vars, j.Version, started, time.Since(started), results, env, runner.Info), nil
}

// envBound bounds reading the environment (interfaces, routes): local
// questions to the kernel that take milliseconds.
const envBound = 2 * time.Second

// responderPreflight bounds the token check against the responder.
const responderPreflight = 1500 * time.Millisecond

// ErrNoSuchHost is bad input: every name given does not exist.
var ErrNoSuchHost = errors.New("no such host")

// nothingResolved turns a run in which every name is unknown to DNS
// (NXDOMAIN) and nothing else could run into bad input: nothing was
// judged. A name that fails while others work, or a resolver that fails
// or times out, is a dns-failure finding instead.
func nothingResolved(results []probe.Result) error {
	var missing []string
	for _, r := range results {
		switch {
		case r.Kind == probe.KindDNS && r.Details.DNS != nil && r.Details.DNS.NotFound:
			missing = append(missing, r.Host)
		case r.Kind == probe.KindDNS:
			return nil
		case r.Status != probe.StatusSkip:
			return nil
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s does not exist for this client's DNS (NXDOMAIN); check the spelling, or whether the name only resolves inside the company network or VPN",
		ErrNoSuchHost, strings.Join(missing, ", "))
}

package report

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

// Build judges a run and returns its report.
func Build(p *profiles.Profile, vars map[string]string, version string, started time.Time, took time.Duration,
	checks []probe.Result, env probe.Environment, run probe.RunInfo) *Report {
	in := Input{Checks: checks, Env: env, Limits: p.EffectiveLimits(), Run: run}
	findings := Diagnose(in, p)
	if checks == nil {
		checks = []probe.Result{}
	}
	if env.Interfaces == nil {
		env.Interfaces = []probe.Interface{}
	}
	if env.Routes == nil {
		env.Routes = []probe.Route{}
	}
	sum := sha256.Sum256(p.Raw)
	return &Report{
		Schema: Schema, Version: version, Profile: p.ID, Product: p.Product, Variables: vars,
		ProfileSource: p.Source, ProfileDigest: hex.EncodeToString(sum[:6]),
		Started: started.UTC().Truncate(time.Millisecond), DurationMS: float64(took.Microseconds()) / 1000,
		Verdict: VerdictOf(findings), Checks: checks, Findings: findings, Environment: env,
		Budget: &Budget{DeadlineMS: ms(run.Deadline), MinDeadlineMS: ms(run.MinDeadline), Interrupted: run.Interrupted},
		Path:   pathOf(run),
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pathOf(run probe.RunInfo) *probe.PathRTT {
	if run.Path.Samples == 0 {
		return nil
	}
	return &run.Path
}

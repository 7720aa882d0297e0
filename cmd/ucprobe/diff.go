package main

import (
	"context"
	"io"
	"os"

	"github.com/ucprobe/ucprobe/internal/files"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/report"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "what changed between two saved reports of one profile (\"what changed since it worked?\")",
		ArgsUsage: "OLD.json NEW.json",
		Description: `Compares two JSON reports of the same profile by their facts: checks that went
from pass to fail (and back), sub-ranges of a swept range that closed or opened,
the NAT mapping, routes that now go through a VPN, server addresses added or gone,
media figures that crossed the profile's limits. The headline names the change
behind the newer report's root cause.

  ucprobe diff sign-off.json today.json
  ucprobe diff sign-off.json today.json --format html -o changes.html

Exit codes: 0 nothing worse, 1 something worse (degraded), 2 a new critical
cause, 3 bad input (a missing file, not a report, another profile or schema).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "output format: text, json, html (the newer report with the changes on top)", Value: "text"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (atomically) instead of stdout"},
		},
		Action: diffAction,
	}
}

func diffAction(_ context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() != 2 {
		return usagef("diff: give two saved JSON reports, the older first (see 'ucprobe diff --help')")
	}
	format := cmd.String("format")
	if format != "text" && format != "json" && format != "html" {
		return usagef("--format %q: use one of text, json, html", format)
	}
	if err := checkOutput("--output", cmd.String("output")); err != nil {
		return err
	}
	old, err := readReport(cmd.Args().Get(0))
	if err != nil {
		return err
	}
	cur, err := readReport(cmd.Args().Get(1))
	if err != nil {
		return err
	}
	d, err := report.Compare(old, cur)
	if err != nil {
		return usageError{err}
	}
	render := func(w io.Writer, _ bool) error {
		switch format {
		case "json":
			return report.WriteDiffJSON(w, d)
		case "html":
			cur.Baseline = d
			return report.WriteHTML(w, cur)
		}
		return report.WriteDiffText(w, d)
	}
	if err := writeTo(cmd, render); err != nil {
		return err
	}
	return exitStatus(d.Verdict.ExitCode())
}

// readReport reads a saved JSON report; every failure is bad input.
func readReport(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("%s: %v", path, files.Bare(err))
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	return rep, nil
}

// loadBaseline reads --baseline before any check runs: a missing file,
// not a report, or a report of another profile is bad input, never "no
// change".
func loadBaseline(path, profile string) (*report.Report, error) {
	if path == "" {
		return nil, nil
	}
	rep, err := readReport(path)
	if err != nil {
		return nil, usagef("--baseline %v", err)
	}
	if rep.Profile != profile {
		return nil, usagef("--baseline %s: a report of profile %s; this run is of %s", path, rep.Profile, profile)
	}
	return rep, nil
}

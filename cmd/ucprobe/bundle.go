package main

import (
	"context"
	"crypto/rand"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// redactFlags are shared by 'bundle' and 'run --bundle'.
func redactFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "redact", Usage: "bundle: replace private addresses, host names and user names by placeholders"},
		&cli.StringFlag{Name: "redact-key", Usage: "bundle: placeholders keyed by `FILE` (16 bytes or more), stable across bundles made with it; implies --redact"},
	}
}

func bundleCommand() *cli.Command {
	return &cli.Command{
		Name:      "bundle",
		Usage:     "pack a saved JSON report as one zip to send out (JSON, text, HTML, environment), redacted if asked",
		ArgsUsage: "REPORT.json",
		Description: `  ucprobe bundle report.json -o ticket.zip --redact
  ucprobe bundle report.json -o ticket.zip --redact-key ~/.ucprobe-redact.key

With --redact, private addresses, host names and user names become placeholders
(ip-..., host-..., user-...): the same value gives the same placeholder in every
file of the bundle, and with the same --redact-key in every bundle, so two
redacted reports still compare with 'ucprobe diff'. Secrets are never in a
report, redacted or not. 'ucprobe run ... --bundle FILE' does the same for a run.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the zip `FILE` to write", Required: true},
		}, redactFlags()...),
		Action: func(_ context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 1 {
				return usagef("bundle: give one saved JSON report (see 'ucprobe bundle --help')")
			}
			opt, err := bundleOptions(cmd)
			if err != nil {
				return err
			}
			if err := checkOutput("--output", cmd.String("output")); err != nil {
				return err
			}
			rep, err := readReport(cmd.Args().First())
			if err != nil {
				return err
			}
			return writeBundle(cmd.String("output"), rep, opt)
		},
	}
}

// bundleOptions reads --redact and --redact-key before anything runs.
func bundleOptions(cmd *cli.Command) (report.BundleOptions, error) {
	var opt report.BundleOptions
	key := make([]byte, 32)
	if path := cmd.String("redact-key"); path != "" {
		data, err := profiles.ReadFile(path)
		if err != nil {
			return opt, usagef("--redact-key %s: %v", path, err)
		}
		if len(data) < 16 {
			return opt, usagef("--redact-key %s: %d bytes; give 16 or more (e.g. head -c 32 /dev/urandom > %s)", path, len(data), path)
		}
		key = data
	} else if !cmd.Bool("redact") {
		return opt, nil
	} else if _, err := rand.Read(key); err != nil {
		return opt, err
	}
	opt.Redactor = report.NewRedactor(key)
	return opt, nil
}

func writeBundle(path string, rep *report.Report, opt report.BundleOptions) error {
	return writeFileAtomic(path, func(w io.Writer) error { return report.WriteBundle(w, rep, opt) })
}

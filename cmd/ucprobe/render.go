package main

import (
	"context"

	"github.com/urfave/cli/v3"
)

const renderFormatsHelp = "text, json, html"

func renderCommand() *cli.Command {
	return &cli.Command{
		Name:      "render",
		Usage:     "turn a saved JSON report into text or a self-contained HTML page",
		ArgsUsage: "REPORT.json",
		Description: `Reads a report saved with 'ucprobe run --format json' (for example one a
customer sent) and renders it again, without running anything.

  ucprobe render report.json --format html -o report.html
  ucprobe render report.json                      # the text report

Exit code: the saved report's verdict (0 ok, 1 degraded, 2 failed), 3 when the
file is missing or not a ucprobe report of this schema.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "output format: " + renderFormatsHelp, Value: "text"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (atomically) instead of stdout"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "text: add the environment and every check's details"},
		},
		Action: renderAction,
	}
}

func renderAction(_ context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() != 1 {
		return usagef("render: give one saved JSON report (see 'ucprobe render --help')")
	}
	format := cmd.String("format")
	if format != "text" && format != "json" && format != "html" {
		return usagef("--format %q: use one of %s", format, renderFormatsHelp)
	}
	rep, err := readReport(cmd.Args().First())
	if err != nil {
		return err
	}
	if err := writeReport(cmd, rep, format, rep.Labels); err != nil {
		return err
	}
	return exitStatus(rep.ExitCode())
}

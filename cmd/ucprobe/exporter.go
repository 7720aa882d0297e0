package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/exporter"
)

func exporterCommand() *cli.Command {
	return &cli.Command{
		Name:      "exporter",
		Usage:     "serve scheduled health probes to Prometheus (blackbox_exporter style: /probe?module=NAME&target=HOST)",
		ArgsUsage: " ",
		Description: `Runs a probes.yaml module (a profile plus variables and credential references)
against the target Prometheus names, under the scrape timeout, and answers with
metrics: probe_success, ucprobe_check_success{check,kind}, ucprobe_finding{cause,severity}, ...

  ucprobe exporter --config probes.yaml                 # listens on 127.0.0.1:9479
  curl 'http://localhost:9479/probe?module=xphone&target=xphone.corp.example'
  curl 'http://localhost:9479/probe?module=xphone&target=xphone.corp.example&debug=true'
  ucprobe exporter --config probes.yaml --check         # validate and exit

Every module needs allowed_targets (or allow_any_target: true). To be scraped
from another host, listen there with TLS and basic auth:
  ucprobe exporter --config probes.yaml --listen :9479 --web.config.file web.yml

/metrics is the exporter's own health, / a status page with the last results.
SIGHUP (or POST /-/reload from loopback) reloads probes.yaml; an invalid file
keeps the old one.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "probes.yaml `FILE`", Required: true},
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Usage: "`ADDR` to listen on (another than loopback: use --web.config.file)", Value: exporter.DefaultListen},
			&cli.StringFlag{Name: "web.config.file", Usage: "TLS and basic auth for the exporter's HTTP: a `FILE` in the Prometheus exporter-toolkit format"},
			&cli.IntFlag{Name: "max-connections", Usage: "open HTTP connections at most; more are refused at once", Value: exporter.DefaultMaxConnections},
			&cli.BoolFlag{Name: "check", Usage: "validate the config, print the modules and exit (0 valid, 3 invalid)"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug lines (every probe's log) to stderr"},
		},
		Action: exporterAction,
	}
}

func exporterAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() > 0 {
		return usagef("exporter: unexpected argument %q (see 'ucprobe exporter --help')", cmd.Args().First())
	}
	if cmd.Bool("check") {
		if err := exporter.Check(cmd.String("config"), cmd.Root().Writer); err != nil {
			return usageError{err}
		}
		return nil
	}
	level := slog.LevelInfo
	if cmd.Bool("debug") {
		level = slog.LevelDebug
	}
	err := exporter.Serve(ctx, exporter.Options{
		ConfigPath: cmd.String("config"), Listen: cmd.String("listen"), WebConfigFile: cmd.String("web.config.file"),
		MaxConnections: int(cmd.Int("max-connections")), Version: version,
		Logger: slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: level})),
	})
	if errors.Is(err, exporter.ErrSetup) {
		return usageError{err}
	}
	return err
}

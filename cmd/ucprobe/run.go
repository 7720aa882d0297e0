package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/internal/files"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/pipeline"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

const formatsHelp = "text, json, html, junit, prometheus"

// resolver is nil (the system's) except in tests, which must not send DNS
// queries off the machine.
var resolver probe.Resolver

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a profile's checks against your servers and name the cause of a failure",
		ArgsUsage: " ",
		Description: `Runs every check of the profile in parallel under one deadline, reads this
client's network environment, and reports the root cause in the vendor's words.

Helpdesk, a failing client:
  ucprobe run --profile xphone --server xphone.corp.example
Field tech, with a responder started on the server side (ucprobe serve):
  ucprobe run --profile xphone --server HOST --responder HOST \
      --token-file token --responder-fingerprint SHA256:...   # as serve printed it
Your own profile, machine-readable:
  ucprobe run --profile ./site.yaml --set server=HOST --format json --output report.json

TURN credentials come from --turn-user/--turn-pass(-file) or UCPROBE_TURN_USER /
UCPROBE_TURN_PASS; they are never printed. The responder's token goes only over
HTTPS to the certificate --responder-fingerprint pins (or one this machine
trusts, --ca-file included); otherwise the run stops before sending it. Exit codes: 0 ok, 1 degraded,
2 failed, 3 bad input.`,
		// --set tcp=443,5061 is one value (the profile parses its lists);
		// repeat a flag to give several.
		DisableSliceFlagSeparator: true,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "profile", Aliases: []string{"p"}, Usage: "built-in profile id (see 'ucprobe profiles list') or a YAML file", Required: true},
			&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Usage: "the server to test, `HOST` (sets the profile variable server)"},
			&cli.StringSliceFlag{Name: "set", Usage: "set a profile variable, `VAR=VALUE` (repeatable)"},
			&cli.StringFlag{Name: "responder", Aliases: []string{"r"}, Usage: "`HOST[:PORT]` of a ucprobe responder (ucprobe serve) at the far end"},
			&cli.StringFlag{Name: "token", Usage: "shared `SECRET` of the responder (prefer --token-file: flags show in ps)", Sources: cli.EnvVars("UCPROBE_TOKEN")},
			&cli.StringFlag{Name: "token-file", Usage: "read the responder's token from `FILE`", TakesFile: true},
			&cli.StringFlag{Name: "responder-fingerprint", Usage: "pin the responder's HTTPS certificate, `SHA256:HEX` as ucprobe serve prints it"},
			&cli.StringFlag{Name: "ca-file", Usage: "`PEM` file with extra CA certificates to trust (added to the system roots)"},
			&cli.StringFlag{Name: "turn-user", Usage: "TURN `USER` (long-term credentials)", Sources: cli.EnvVars("UCPROBE_TURN_USER")},
			&cli.StringFlag{Name: "turn-pass", Usage: "TURN `PASSWORD` (prefer --turn-pass-file or the environment variable)", Sources: cli.EnvVars("UCPROBE_TURN_PASS")},
			&cli.StringFlag{Name: "turn-pass-file", Usage: "read the TURN password from `FILE`", TakesFile: true},
			&cli.StringFlag{Name: "turn-secret", Usage: "TURN REST shared `SECRET` (coturn use-auth-secret): time-limited credentials", Sources: cli.EnvVars("UCPROBE_TURN_SECRET")},
			&cli.StringSliceFlag{Name: "stun", Usage: "extra STUN server `HOST:PORT` for NAT mapping tests (repeatable)"},
			&cli.IntFlag{Name: "sweep-rate", Usage: "pace UDP range sweeps at `PPS` packets per second (lower it on a thin link)", Value: probe.DefaultSweepRate},
			&cli.DurationFlag{Name: "media", Usage: "length of the media-like measurement on the ICE path (0 skips it)", Value: -1, DefaultText: "the profile's, within the deadline"},
			&cli.DurationFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "deadline for the whole run", Value: 10 * time.Second},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "output format: " + formatsHelp, Value: "text"},
			&cli.StringSliceFlag{Name: "label", Usage: "add `NAME=VALUE` to the report (repeatable), e.g. --label site=berlin --label operator=jane: json, html and junit show it, prometheus puts it on every metric (profile and target are always set)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` (atomically) instead of stdout"},
			&cli.StringFlag{Name: "bundle", Usage: "also write a zip `FILE` to send out: JSON, text and HTML reports and the environment (see --redact)"},
			&cli.StringFlag{Name: "baseline", Usage: "compare with a saved JSON report of the same profile, `FILE` (e.g. the sign-off run): the report says what changed; the exit code stays the run's"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "text: add the environment and every check's details"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress lines on stderr (they show only on a terminal anyway)"},
			&cli.BoolFlag{Name: "debug", Usage: "log each check's steps to stderr: addresses, bounds, results (never secrets)"},
		}, redactFlags()...),
		Action: runAction,
	}
}

func runAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() > 0 {
		return usagef("run: unexpected argument %q (flags start with --; see 'ucprobe run --help')", cmd.Args().First())
	}
	format := cmd.String("format")
	if !validFormat(format) {
		return usagef("--format %q: use one of %s", format, formatsHelp)
	}
	if cmd.Duration("timeout") <= 0 {
		return usagef("--timeout %s: must be positive", cmd.Duration("timeout"))
	}
	labels, err := parseLabels(cmd.StringSlice("label"))
	if err != nil {
		return err
	}
	if len(labels) > 0 && format == "text" {
		return usagef("--label: the text report has no place for labels; use --format json, html, junit or prometheus")
	}
	p, err := profiles.Load(cmd.String("profile"))
	if err != nil {
		return usageError{err}
	}
	vars, err := parseVars(cmd.String("server"), cmd.StringSlice("set"))
	if err != nil {
		return err
	}
	cfg, err := configFrom(cmd, p)
	if err != nil {
		return err
	}
	if err := checkOutput("--output", cmd.String("output")); err != nil {
		return err
	}
	baseline, err := loadBaseline(cmd.String("baseline"), p.ID)
	if err != nil {
		return err
	}
	bundle, err := bundleOptions(cmd)
	if err != nil {
		return err
	}
	if err := checkOutput("--bundle", cmd.String("bundle")); err != nil {
		return err
	}
	rep, err := pipeline.Run(ctx, pipeline.Job{Profile: p, Vars: vars, Config: cfg, Timeout: cmd.Duration("timeout"), Version: version})
	if err != nil {
		return usageError{err}
	}
	if len(labels) > 0 {
		rep.Labels = labels
	}
	if baseline != nil {
		if rep.Baseline, err = report.Compare(baseline, rep); err != nil {
			return usageError{err}
		}
	}
	if err := writeReport(cmd, rep, format, labels); err != nil {
		return err
	}
	if path := cmd.String("bundle"); path != "" {
		if err := writeBundle(path, rep, bundle); err != nil {
			return err
		}
	}
	return exitStatus(rep.ExitCode())
}

func validFormat(f string) bool {
	for _, ok := range strings.Split(formatsHelp, ", ") {
		if f == ok {
			return true
		}
	}
	return false
}

// parseVars merges --server and --set VAR=VALUE.
func parseVars(server string, sets []string) (map[string]string, error) {
	vars := map[string]string{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("--set %q: write VAR=VALUE, e.g. --set turn=turn.example.com", s)
		}
		vars[k] = v
	}
	if server != "" {
		if v, ok := vars["server"]; ok && v != server {
			return nil, usagef("--server %q and --set server=%q disagree; give one", server, v)
		}
		vars["server"] = server
	}
	return vars, nil
}

func configFrom(cmd *cli.Command, p *profiles.Profile) (*probe.Config, error) {
	token, turnPass, err := responderSecrets(cmd)
	if err != nil {
		return nil, err
	}
	turn, err := turnFlags(cmd, turnPass)
	if err != nil {
		return nil, err
	}
	cfg := &probe.Config{
		Responder:      cmd.String("responder"),
		ResponderToken: token,
		ExtraSTUN:      cmd.StringSlice("stun"),
		TURN:           turn,
		Media:          time.Duration(p.EffectiveLimits().MediaS * float64(time.Second)),
		Resolver:       resolver,
	}
	if m := cmd.Duration("media"); m >= 0 {
		cfg.Media = m
	}
	if fp := cmd.String("responder-fingerprint"); fp != "" {
		if cfg.ResponderFingerprint, err = responder.ParseFingerprint(fp); err != nil {
			return nil, usagef("--responder-fingerprint: %v", err)
		}
	}
	cfg.SweepRate = int(cmd.Int("sweep-rate"))
	if cfg.SweepRate < 1 || cfg.SweepRate > 1000000 {
		return nil, usagef("--sweep-rate %d: give packets per second, 1 to 1000000", cfg.SweepRate)
	}
	for _, s := range cfg.ExtraSTUN {
		if err := probe.ValidSTUNServer(s); err != nil {
			return nil, usagef("--stun: %v", err)
		}
	}
	if f := cmd.String("ca-file"); f != "" {
		pool, err := probe.LoadCAFile(f)
		if err != nil {
			return nil, usagef("--ca-file %s: %v", f, err)
		}
		cfg.RootCAs = pool
	}
	if !cmd.Bool("quiet") && !cmd.Bool("debug") && isTerminal(cmd.Root().ErrWriter) {
		cfg.Progress = report.NewProgress(cmd.Root().ErrWriter, useColor(cmd.Root().ErrWriter)).Event
	}
	if cmd.Bool("debug") {
		cfg.Logger = slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg, nil
}

// turnFlags are the TURN credentials of --turn-user, the password and
// --turn-secret (run and serve). A user without a password or a secret is
// bad input: the TURN checks, or the responder's agent, would otherwise run
// unauthenticated.
func turnFlags(cmd *cli.Command, pass probe.Secret) (probe.TURNCredentials, error) {
	c := probe.TURNCredentials{Username: cmd.String("turn-user"), Password: pass, SharedSecret: probe.Secret(cmd.String("turn-secret"))}
	if c.UserWithoutPassword() {
		return c, usagef("--turn-user %q without a password: give --turn-pass-file, --turn-pass or UCPROBE_TURN_PASS (or --turn-secret for TURN REST credentials)", c.Username)
	}
	return c, nil
}

// responderSecrets are the responder token and the TURN password (serve
// and run take both, each by flag, file or environment).
func responderSecrets(cmd *cli.Command) (token, turnPass probe.Secret, err error) {
	if token, err = secretFlag(cmd, "token"); err != nil {
		return "", "", err
	}
	turnPass, err = secretFlag(cmd, "turn-pass")
	return token, turnPass, err
}

// secretFlag is the secret of --NAME or --NAME-file (not both): a file
// keeps it out of ps and the shell history. The file holds the secret,
// a trailing newline allowed.
func secretFlag(cmd *cli.Command, name string) (probe.Secret, error) {
	v, file := cmd.String(name), cmd.String(name+"-file")
	if file == "" {
		return probe.Secret(v), nil
	}
	if v != "" {
		return "", usagef("--%s-file and --%s (or its environment variable) both given: give one", name, name)
	}
	s, err := probe.ReadSecretFile(file)
	if err != nil {
		return "", usagef("--%s-file %s: %v", name, file, err)
	}
	return s, nil
}

func writeReport(cmd *cli.Command, rep *report.Report, format string, labels map[string]string) error {
	render := func(w io.Writer, color bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, rep)
		case "prometheus":
			return report.WritePrometheus(w, rep, report.MetricsOptions{ConstLabels: textfileLabels(rep, labels)})
		case "html":
			return report.WriteHTML(w, rep)
		case "junit":
			return report.WriteJUnit(w, rep)
		default:
			return report.WriteText(w, rep, report.TextOptions{Color: color, Verbose: cmd.Bool("verbose")})
		}
	}
	return writeTo(cmd, render)
}

// writeTo sends output to --output (atomically) or to stdout, in colour
// only on a terminal.
func writeTo(cmd *cli.Command, render func(w io.Writer, color bool) error) error {
	out := cmd.String("output")
	if out == "" || out == "-" {
		w := cmd.Root().Writer
		return render(w, useColor(w))
	}
	return writeFileAtomic(out, func(w io.Writer) error { return render(w, false) })
}

// checkOutput finds a bad --output before the run, not after it: the
// folder must exist and take a new file, and path must not be a folder.
func checkOutput(flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("%s %s: is a folder; give a file name", flag, path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".check-*")
	if err != nil {
		return usagef("%s %s: cannot write there: %v", flag, path, files.Bare(err))
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// writeFileAtomic writes to a temporary file next to path and renames it,
// so a reader (a textfile collector, a ticket upload) never sees half a file.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return usagef("--output %s: %v", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// useColor: only on a terminal, never with NO_COLOR or TERM=dumb.
func useColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(w)
}

// isTerminal: w is a character device (a terminal), not a file or pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// textfileLabels tell apart several reports in one textfile collector
// directory: the profile, the server variable (the site's target as the
// operator wrote it; Prometheus' instance label is the node_exporter's own)
// and the --label values.
func textfileLabels(rep *report.Report, extra map[string]string) map[string]string {
	l := map[string]string{"profile": rep.Profile}
	if s := rep.Variables["server"]; s != "" {
		l["target"] = s
	}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

// parseLabels reads --label NAME=VALUE.
func parseLabels(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || v == "" {
			return nil, usagef("--label %q: write NAME=VALUE, e.g. --label site=berlin", s)
		}
		if k == "profile" || k == "target" {
			return nil, usagef("--label %q: %s is set by ucprobe", s, k)
		}
		if err := report.CheckConstLabel(k); err != nil {
			return nil, usagef("--label %q: %v", s, err)
		}
		out[k] = v
	}
	return out, nil
}

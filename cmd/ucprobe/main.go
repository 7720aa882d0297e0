// Command ucprobe checks whether a unified-communications client can reach
// its servers, and names the cause when it cannot. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdout, stderr)
	err := app.Run(ctx, args)
	return exitCode(err, stderr)
}

// exitStatus ends a command with a code and no message (the report has
// already said everything).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is bad input: one line on stderr, exit 3.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return report.ExitOK
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "\n", "; ")
	fmt.Fprintf(stderr, "ucprobe: %s\n", msg)
	return report.ExitUnknown
}

func newApp(stdout, stderr io.Writer) *cli.Command {
	onUsage := func(_ context.Context, cmd *cli.Command, err error, _ bool) error {
		return usagef("%s: %v%s (see 'ucprobe %s --help')", cmd.FullName(), err, flagHint(cmd, err), strings.TrimPrefix(cmd.FullName(), "ucprobe "))
	}
	app := &cli.Command{
		Name:  "ucprobe",
		Usage: "reachability and ICE/STUN/TURN diagnostics for unified-communications clients",
		Description: `ucprobe loads a vendor profile (which ports, which servers, which limits), runs
real network checks against your servers and names the cause of a failure in the
words of the vendor's own documents.

Examples:
  ucprobe demo                                        # see a full report, no setup
  ucprobe profiles list                               # the built-in vendor profiles
  ucprobe run --profile xphone --server xphone.corp.example
  ucprobe run --profile estos-procall --set ucconnect=HOST --turn-user U --turn-pass P
  ucprobe run --profile generic --server pbx.example --set tcp=443,5061 --format json

Exit codes: 0 ok, 1 degraded (warnings), 2 failed (a critical finding),
3 unknown (bad input or internal error: nothing was judged).`,
		Writer:    stdout,
		ErrWriter: stderr,

		Suggest:      true,
		OnUsageError: onUsage,
		Commands: []*cli.Command{
			runCommand(),
			renderCommand(),
			diffCommand(),
			bundleCommand(),
			profilesCommand(),
			exporterCommand(),
			serveCommand(),
			demoCommand(),
			versionCommand(),
		},
		Action: func(_ context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return unknownCommand(cmd, cmd.Args().First())
			}
			return cli.ShowRootCommandHelp(cmd)
		},
	}
	setUsageHandler(app, onUsage)
	return app
}

func setUsageHandler(c *cli.Command, h cli.OnUsageErrorFunc) {
	c.OnUsageError = h
	for _, sub := range c.Commands {
		setUsageHandler(sub, h)
	}
}

// unknownCommand is one line naming the word, the closest command and the
// commands there are.
func unknownCommand(cmd *cli.Command, word string) error {
	var names []string
	for _, c := range cmd.Commands {
		if !c.Hidden && c.Name != "help" {
			names = append(names, c.Name)
		}
	}
	hint := ""
	if c := profiles.Closest(word, names); c != "" {
		hint = "did you mean " + c + "? "
	}
	where := ""
	if cmd.Root() != cmd {
		where = cmd.FullName() + ": "
	}
	return usagef("%sunknown command %q (%scommands: %s; see '%s --help')", where, word, hint, strings.Join(names, ", "), cmd.FullName())
}

// flagHint is " (did you mean --server?)" for a mistyped flag.
func flagHint(cmd *cli.Command, err error) string {
	_, name, ok := strings.Cut(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	var names []string
	for _, f := range cmd.Flags {
		names = append(names, f.Names()...)
	}
	if c := profiles.Closest(strings.TrimLeft(name, "-"), names); c != "" {
		dash := "--"
		if len(c) == 1 {
			dash = "-"
		}
		return "; did you mean " + dash + c + "?"
	}
	return ""
}

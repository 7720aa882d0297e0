package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/report"
)

// Mistypes get one line with the closest word; help is a command.
func TestDidYouMeanAndHelp(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string // on stderr for exit 3, on stdout otherwise
	}{
		{[]string{"rnu"}, report.ExitUnknown, `unknown command "rnu" (did you mean run?`},
		{[]string{"profiles", "lsit"}, report.ExitUnknown, `profiles: unknown command "lsit" (did you mean list?`},
		{[]string{"run", "-p", "xphon", "-s", "127.0.0.1"}, report.ExitUnknown, `unknown profile "xphon" (did you mean xphone?`},
		{[]string{"run", "-p", "xphone", "--servr", "127.0.0.1"}, report.ExitUnknown, "did you mean --server?"},
		{[]string{"run", "-p", "xphone", "-s", "127.0.0.1", "-o", filepath.Join(dir, "no", "such", "r.json")}, report.ExitUnknown, "cannot write there"},
		{[]string{"run", "-p", "xphone", "-s", "127.0.0.1", "-o", dir}, report.ExitUnknown, "is a folder"},
		{[]string{"run", "-p", "xphone", "-s", "127.0.0.1", "--sweep-rate", "0"}, report.ExitUnknown, "--sweep-rate 0"},
		{[]string{"help"}, report.ExitOK, "COMMANDS:"},
		{[]string{"help", "run"}, report.ExitOK, "--server HOST, -s HOST"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := ucprobe(t, tt.args...)
			got := out
			if tt.code == report.ExitUnknown {
				got = errOut
				if strings.Count(errOut, "\n") != 1 || out != "" {
					t.Errorf("want one line on stderr and nothing on stdout, got %q / %q", errOut, out)
				}
			}
			if code != tt.code || !strings.Contains(got, tt.want) {
				t.Errorf("exit %d, output %q; want exit %d with %q", code, got, tt.code, tt.want)
			}
		})
	}
	// The help shows each flag's default once, in words where a number
	// would mislead.
	_, out, _ := ucprobe(t, "help", "run")
	for _, bad := range []string{"-1ns", "(default 25000", "variable HOST"} {
		if strings.Contains(out, bad) {
			t.Errorf("run --help shows %q", bad)
		}
	}
}

// Progress lines go only to a terminal: a pipe or file gets none.
func TestNoProgressWhenNotATerminal(t *testing.T) {
	code, out, errOut := ucprobe(t, "run", "-p", "generic", "--server", "127.0.0.1", "--set", "tcp="+strconv.Itoa(probetest.ClosedTCPPort(t)))
	if code != report.ExitFailed || errOut != "" || !strings.Contains(out, "port-closed") {
		t.Errorf("exit %d, stderr %q (want none)", code, errOut)
	}
	if isTerminal(&strings.Builder{}) {
		t.Error("a buffer is not a terminal")
	}
}

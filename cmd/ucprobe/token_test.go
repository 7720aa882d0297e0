package main

import (
	"context"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/responder"
)

// A responder that refuses the token would leave every responder check
// silent: that is bad input (exit 3, one line), not a UDP block.
func TestRunWrongResponderToken(t *testing.T) {
	srv, err := responder.New(responder.Config{TCP: []int{freePort(t)}, Listen: "127.0.0.1", HTTP: "127.0.0.1:0", Token: "right-one"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong token, pinned", []string{"--token", "wrong-one", "--responder-fingerprint", srv.Fingerprint()}, "--token"},
		// The certificate is self-signed: without the pin the token stays home.
		{"right token, no pin", []string{"--token", "right-one"}, "--responder-fingerprint"},
		{"right token, another pin", []string{"--token", "right-one", "--responder-fingerprint", "SHA256:" + strings.Repeat("ab", 32)}, "another certificate"},
		{"malformed pin", []string{"--token", "right-one", "--responder-fingerprint", "SHA256:xyz"}, "--responder-fingerprint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := ucprobe(t, append([]string{"run", "-p", "xphone", "-s", "127.0.0.1", "--responder", srv.HTTPAddr(), "-t", "3s", "-f", "json"}, tc.args...)...)
			if code != 3 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 3 and one line naming %q", code, out, errOut, tc.want)
			}
			if strings.Contains(errOut, "wrong-one") || strings.Contains(errOut, "right-one") {
				t.Errorf("a token leaked: %q", errOut)
			}
		})
	}
}

func TestRunBadSweepRate(t *testing.T) {
	for _, v := range []string{"-5", "2000000", "fast"} {
		code, _, errOut := ucprobe(t, "run", "-p", "xphone", "-s", "127.0.0.1", "--sweep-rate", v)
		if code != 3 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "sweep-rate") {
			t.Errorf("--sweep-rate %s: exit %d, stderr %q", v, code, errOut)
		}
	}
}

// --set tcp=443,5061 is one variable with a list (the README's example),
// not two --set values.
func TestRunSetListValue(t *testing.T) {
	code, out, errOut := ucprobe(t, "run", "-p", "generic", "-s", "127.0.0.1", "--set", "tcp=1,2", "-t", "3s", "-f", "json")
	if code != 2 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	r := decode(t, out)
	var ids []string
	for _, c := range r.Checks {
		if c.Status != "skip" {
			ids = append(ids, c.ID)
		}
	}
	if strings.Join(ids, " ") != "tcp-1 tcp-2" {
		t.Errorf("checks that ran %v, want tcp-1 tcp-2", ids)
	}
}

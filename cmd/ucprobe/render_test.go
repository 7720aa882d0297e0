package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/report"
)

// A saved JSON report renders again as HTML and text with the run's
// verdict as exit code; labels travel in the JSON.
func TestRenderSavedReport(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "r.json")
	closed := strconv.Itoa(probetest.ClosedTCPPort(t))
	code, _, errOut := ucprobe(t, "run", "-p", "generic", "--server", "127.0.0.1", "--set", "tcp="+closed,
		"--format", "json", "-o", saved, "--label", "site=berlin", "--label", "operator=jane")
	if code != report.ExitFailed {
		t.Fatalf("run: exit %d, %s", code, errOut)
	}
	page := filepath.Join(dir, "r.html")
	if code, _, errOut := ucprobe(t, "render", saved, "--format", "html", "-o", page); code != report.ExitFailed {
		t.Fatalf("render html: exit %d, %s", code, errOut)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "port-closed", "site=berlin", "operator=jane", "Content-Security-Policy"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	code, out, _ := ucprobe(t, "render", saved)
	if code != report.ExitFailed || !strings.Contains(out, "Cause: CRITICAL port-closed") {
		t.Errorf("render text: exit %d\n%s", code, out)
	}
}

func TestRenderBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"render", filepath.Join(dir, "none.json")}, "none.json: no such file"},
		{"other schema", []string{"render", write("v2.json", `{"schema":"ucprobe/report/v2"}`)}, `schema "ucprobe/report/v2" is not one this version reads`},
		{"not a report", []string{"render", write("x.json", `{"a":1}`)}, `no "schema" field`},
		{"not json", []string{"render", write("t.txt", "hello")}, "not a ucprobe report"},
		{"bad format", []string{"render", write("y.json", "{}"), "--format", "prometheus"}, `--format "prometheus"`},
		{"no file", []string{"render"}, "give one saved JSON report"},
		{"label on text", []string{"run", "-p", "generic", "--server", "127.0.0.1", "--label", "site=x"}, "--label: the text report has no place for labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := ucprobe(t, tt.args...)
			if code != report.ExitUnknown || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 3 and one line with %q", code, errOut, out, tt.want)
			}
		})
	}
}

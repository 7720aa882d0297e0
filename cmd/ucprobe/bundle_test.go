package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/report"
)

// A run's bundle with TURN credentials: the password is in no file, and
// with --redact-key neither is the user name; the same key gives the same
// placeholders in a second bundle made from the saved report.
func TestRunBundle(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("a-redaction-key-of-some-length"), 0o600); err != nil {
		t.Fatal(err)
	}
	const pass = "S3cr3t-Pass-never-shown"
	zip1, saved := filepath.Join(dir, "a.zip"), filepath.Join(dir, "r.json")
	code, _, errOut := ucprobe(t, "run", "-p", "generic", "--server", "127.0.0.1", "--set", "turn=1",
		"--turn-user", "alice.site", "--turn-pass", pass, "--timeout", "3s", "--format", "json", "-o", saved, "--bundle", zip1, "--redact-key", key)
	if code == report.ExitUnknown {
		t.Fatalf("run: %s", errOut)
	}
	files := unzip(t, zip1)
	if len(files) != 5 {
		t.Fatalf("bundle holds %d files", len(files))
	}
	for name, body := range files {
		if strings.Contains(body, pass) || strings.Contains(body, "alice.site") {
			t.Errorf("%s holds the TURN password or user name", name)
		}
	}
	zip2 := filepath.Join(dir, "b.zip")
	if code, _, errOut := ucprobe(t, "bundle", saved, "-o", zip2, "--redact-key", key); code != 0 {
		t.Fatalf("bundle: exit %d %s", code, errOut)
	}
	if a, b := placeholders(files["report.json"]), placeholders(unzip(t, zip2)["report.json"]); a == "" || a != b {
		t.Errorf("same key, different placeholders: %q vs %q", a, b)
	}
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("tiny"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bundle", saved, "-o", filepath.Join(dir, "c.zip"), "--redact-key", short}, "4 bytes; give 16 or more"},
		{[]string{"bundle", filepath.Join(dir, "none.json"), "-o", filepath.Join(dir, "c.zip")}, "no such file"},
		{[]string{"run", "-p", "generic", "-s", "127.0.0.1", "--bundle", filepath.Join(dir, "no", "x.zip")}, "--bundle " + filepath.Join(dir, "no", "x.zip") + ": cannot write there"},
	} {
		if code, _, errOut := ucprobe(t, tc.args...); code != report.ExitUnknown || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d %q, want 3 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func unzip(t *testing.T, path string) map[string]string {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	out := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

// placeholders lists the user-... placeholders of a JSON report in order.
func placeholders(s string) string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '"' || r == ' ' || r == ':' }) {
		if strings.HasPrefix(f, "user-") {
			out = append(out, f)
		}
	}
	return strings.Join(out, ",")
}

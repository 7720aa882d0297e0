package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/report"
)

// Sign-off day and callback day on loopback: a port that listened at the
// baseline and is closed now is named by run --baseline and by diff.
func TestBaselineAndDiff(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	signoff, today := filepath.Join(dir, "signoff.json"), filepath.Join(dir, "today.json")
	args := []string{"run", "-p", "generic", "--server", "127.0.0.1", "--set", "tcp=" + port, "--format", "json"}
	if code, _, errOut := ucprobe(t, append(args, "-o", signoff, "--label", "operator=jane")...); code != report.ExitOK {
		t.Fatalf("sign-off run: exit %d, %s", code, errOut)
	}
	ln.Close()
	code, out, errOut := ucprobe(t, append(args, "--baseline", signoff)...)
	if code != report.ExitFailed {
		t.Fatalf("callback run: exit %d (want the run's own verdict, 2), %s", code, errOut)
	}
	if err := os.WriteFile(today, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Baseline == nil {
		t.Fatalf("report without its baseline comparison: %v", err)
	}
	if h := rep.Baseline.Headline; !strings.HasPrefix(h, "TCP 127.0.0.1:"+port+" (tcp) fails (refused) since ") {
		t.Errorf("baseline headline %q", h)
	}
	code, text, _ := ucprobe(t, "diff", signoff, today)
	if code != report.ExitFailed || !strings.Contains(text, "new port-closed") || !strings.Contains(text, "fails (refused) since") {
		t.Errorf("diff: exit %d\n%s", code, text)
	}
	if code, text, _ := ucprobe(t, "diff", today, signoff); code != report.ExitOK || !strings.Contains(text, "better") {
		t.Errorf("diff backwards: exit %d (nothing got worse)\n%s", code, text)
	}
	if code, text, _ := ucprobe(t, "diff", signoff, signoff); code != report.ExitOK || !strings.Contains(text, "No change since") {
		t.Errorf("diff of a report with itself: exit %d\n%s", code, text)
	}
	page := filepath.Join(dir, "changes.html")
	if code, _, errOut := ucprobe(t, "diff", signoff, today, "--format", "html", "-o", page); code != report.ExitFailed {
		t.Errorf("diff html: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(page); !strings.Contains(string(b), `id="baseline"`) || !strings.Contains(string(b), "port-closed") {
		t.Errorf("diff html lacks the changes section")
	}

	// Bad input is exit 3 before any check runs.
	xphone := filepath.Join(dir, "xphone.json")
	if code, _, errOut := ucprobe(t, "run", "-p", "xphone", "-s", "127.0.0.1", "--format", "json", "-o", xphone); code == report.ExitUnknown {
		t.Fatalf("xphone run: %s", errOut)
	}
	partial := filepath.Join(dir, "partial.json")
	b, _ := os.ReadFile(signoff)
	_ = os.WriteFile(partial, b[:len(b)/2], 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(args, "--baseline", filepath.Join(dir, "none.json")), "--baseline " + filepath.Join(dir, "none.json") + ": no such file"},
		{append(args, "--baseline", xphone), "a report of profile xphone; this run is of generic"},
		{append(args, "--baseline", partial), "not a ucprobe report"},
		{[]string{"diff", signoff, xphone}, "reports not comparable"},
		{[]string{"diff", signoff}, "give two saved JSON reports"},
		{[]string{"diff", partial, signoff}, "not a ucprobe report"},
	} {
		code, out, errOut := ucprobe(t, tc.args...)
		if code != report.ExitUnknown || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 3 with %q and no report", tc.args[len(tc.args)-1], code, errOut, tc.want)
		}
	}
}

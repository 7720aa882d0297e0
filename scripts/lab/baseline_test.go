//go:build linux

package lab

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Sign-off day and callback day (issue 19): a field tech's run on the
// clean site is saved as the baseline; after the site's firewall starts
// dropping 31000-33000, a run with --baseline names that change as the
// headline of the comparison, and keeps the run's own verdict and exit
// code.
func TestBaselineNamesTheChange(t *testing.T) {
	Require(t)
	args := append(xphone(), "--responder", NameServer, "--token-file", TokenFile(), "--timeout", caseTimeout)
	base := filepath.Join(t.TempDir(), "signoff.json")

	Scenario(t, "clean")
	user, pass := TurnCreds(t)
	env := []string{"UCPROBE_TURN_USER=" + user, "UCPROBE_TURN_PASS=" + pass, "NO_COLOR="}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, errOut, code := ExecEnvContext(t, ctx, "client", env,
		append(append([]string{UcprobeBin(t), "run"}, args...), "--format", "json", "-o", base, "--label", "operator=lab")...)
	if code != 0 {
		t.Fatalf("sign-off run on the clean site: exit %d\n%s", code, errOut)
	}
	if b, err := os.ReadFile(base); err != nil || !strings.Contains(string(b), `"verdict": "ok"`) {
		t.Fatalf("baseline %s: %v", base, err)
	}

	Scenario(t, "range-partial")
	r, code, _ := runUcprobe(t, append(args, "--baseline", base))
	if code != 2 || r.Verdict != "failed" {
		t.Errorf("callback run: exit %d verdict %s, want the run's own (2, failed)", code, r.Verdict)
	}
	if got := r.causes("critical"); !slices.Equal(got, []string{"udp-port-range-blocked"}) {
		t.Errorf("critical causes %v, want exactly [udp-port-range-blocked]", got)
	}
	if r.Baseline == nil {
		t.Fatal("the report carries no comparison with the baseline")
	}
	t.Logf("baseline: %s (%s)", r.Baseline.Headline, r.Baseline.Verdict)
	if h := r.Baseline.Headline; !strings.HasPrefix(h, "UDP 31000-33000 closed since ") || !strings.Contains(h, "unchanged: signalling") {
		t.Errorf("headline %q: want the closed sub-range first, signalling unchanged", h)
	}
	if r.Baseline.Verdict != "failed" || len(r.Baseline.Changes) == 0 || r.Baseline.Changes[0].Kind != "udp-range" || r.Baseline.Changes[0].Trend != "worse" {
		t.Errorf("comparison %+v: want failed, the closed range first", r.Baseline)
	}
}

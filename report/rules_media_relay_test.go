package report

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

// Helpdesk mode finds loss through the relay loopback alone and says
// which path it measured; with a two-ended measurement, that one speaks.
func TestRelayLoopbackMedia(t *testing.T) {
	limits := profiles.Limits{LossPct: 1, RTTMS: 100, JitterMS: 30}
	loop := check("media-relay", probe.KindICE).udp().atTURN().measured("relay-loopback", "relay-loopback", 10).r()
	for _, tc := range []struct {
		name     string
		checks   []probe.Result
		want     []Cause
		evidence string
	}{
		{"loopback alone", []probe.Result{tlsOK, loop}, []Cause{cause.PacketLoss}, "media-relay"},
		{"two-ended is preferred", []probe.Result{tlsOK, loop, check("ice", probe.KindICE).udp().atTURN().measured("two-ended", "", 0).r()}, nil, ""},
		{"two-ended loss names the two-ended check", []probe.Result{tlsOK, loop, check("ice", probe.KindICE).udp().atTURN().measured("two-ended", "", 5).r()}, []Cause{cause.PacketLoss}, "ice"},
		{"clean loopback", []probe.Result{tlsOK, check("media-relay", probe.KindICE).udp().atTURN().measured("relay-loopback", "relay-loopback", 0).r()}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks, Limits: limits}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v", got, tc.want)
			}
			if len(fs) == 0 {
				return
			}
			if !slices.Equal(fs[0].Evidence, []string{tc.evidence}) {
				t.Fatalf("evidence %v", fs[0].Evidence)
			}
			if tc.evidence == "media-relay" && !strings.Contains(fs[0].Detail, "to the TURN server and back") {
				t.Fatalf("detail does not say the path: %s", fs[0].Detail)
			}
		})
	}
}

// The HTML page says which path a relay loopback measured, and does not
// split its loss into up and down or miss a pair table it never had.
func TestHTMLRelayLoopback(t *testing.T) {
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	loop := check("media-relay", probe.KindICE).udp().atTURN().measured("relay-loopback", "relay-loopback", 10).r()
	r := Build(p, map[string]string{"server": "pbx.example", "turn": "turn.example"}, "test", time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), time.Second,
		[]probe.Result{loop}, probe.Environment{}, probe.RunInfo{})
	text := visibleText(t, renderHTML(t, r))
	for _, w := range []string{"this client to the TURN server and back", "not told apart", "packet-loss"} {
		if !strings.Contains(text, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if strings.Contains(text, "No candidate pair was formed") {
		t.Error("page looks for candidate pairs in a relay loopback")
	}
}

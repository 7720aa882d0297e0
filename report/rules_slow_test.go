package report

import (
	"slices"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

// Slowness is quality, never a block: without a media stream, the run's
// own round trips name latency and jitter; with one, the media figures do
// (the stronger evidence), and too few samples say nothing.
func TestPathQuality(t *testing.T) {
	limits := profiles.Limits{RTTMS: 100, JitterMS: 30, LossPct: 1}
	slow := probe.PathRTT{Samples: 7, RTTMS: 350, JitterMS: 120}
	withMedia := check("ice", probe.KindICE).at("pbx.example", "").connectedVia("").r()
	withMedia.Details.ICE.Media = &probe.MediaStats{Sent: 100, Received: 100, RTTMeanMS: 20, JitterMS: 2}
	for _, tc := range []struct {
		name   string
		checks []probe.Result
		path   probe.PathRTT
		want   []Cause
	}{
		{"a slow, jittery path without media", []probe.Result{tlsOK, stunOK}, slow, []Cause{cause.HighLatency, cause.HighJitter}},
		{"slow but steady", []probe.Result{tlsOK, stunOK}, probe.PathRTT{Samples: 7, RTTMS: 350, JitterMS: 10}, []Cause{cause.HighLatency}},
		{"a fast path", []probe.Result{tlsOK, stunOK}, probe.PathRTT{Samples: 7, RTTMS: 20, JitterMS: 3}, nil},
		{"too few samples", []probe.Result{tlsOK}, probe.PathRTT{Samples: 2, RTTMS: 350, JitterMS: 120}, nil},
		{"media measured: media decides", []probe.Result{tlsOK, withMedia}, slow, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks, Limits: limits, Run: probe.RunInfo{Path: tc.path}}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				if f.Severity != SeverityWarning || f.Facts["source"] != "path" || len(f.Evidence) == 0 {
					t.Errorf("%s: severity %s facts %v evidence %v, want a warning from the path with evidence", f.Cause, f.Severity, f.Facts, f.Evidence)
				}
			}
		})
	}
}

// When ICE connected through the TURN server's relay, an empty relay echo
// of our own is the weaker evidence: no turn-relay-failed.
func TestRelayEchoContradictedByICE(t *testing.T) {
	viaRelay := check("ice", probe.KindICE).at("pbx.example", "").connectedVia("udp").r()
	viaRelay.Details.ICE.Selected.Local.Address = "198.51.100.7"
	direct := check("ice", probe.KindICE).at("pbx.example", "").connectedVia("").r()
	loop := check("media-relay", probe.KindICE).at("turn.example", "").connectedVia("").r()
	loop.Details.ICE.Mode = "relay-loopback"
	loop.Details.ICE.Media = &probe.MediaStats{Sent: 100, Received: 97}
	for _, tc := range []struct {
		name   string
		checks []probe.Result
		want   bool
	}{
		{"relay echo empty, nothing else", []probe.Result{tlsOK, stunOK, turnRelaySilent}, true},
		{"ICE connected directly: says nothing of the relay", []probe.Result{tlsOK, stunOK, turnRelaySilent, direct}, true},
		{"ICE connected through this server's relay", []probe.Result{tlsOK, stunOK, turnRelaySilent, viaRelay}, false},
		{"media looped through this server's relay came back", []probe.Result{tlsOK, stunOK, turnRelaySilent, loop}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Contains(causes(Diagnose(Input{Checks: tc.checks}, nil)), cause.TURNRelayFailed)
			if got != tc.want {
				t.Errorf("turn-relay-failed %v, want %v", got, tc.want)
			}
		})
	}
}

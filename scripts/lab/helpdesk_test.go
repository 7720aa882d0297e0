//go:build linux

package lab

import (
	"strings"
	"testing"
)

// Helpdesk mode (issue 16): one failing client, no responder at the far
// end, the deployment's one STUN/TURN server. Each case runs ucprobe as a
// helpdesk would (no --responder, --timeout 5s, the profile's default
// media window) and asserts the exact cause set from the evidence one end
// can gather: the NAT mapping through the TURN relay, media through a
// relay loopback, and a live sample of the far end's media ports.

// helpdeskXphone is xphone against the lab server without a responder.
func helpdeskXphone(turn string) []string {
	return []string{"--profile", "xphone", "--server", NameServer, "--set", "turn=" + turn, "--ca-file", CAFile(), "--timeout", caseTimeout}
}

// helpdeskCase is one helpdesk-only fault: what the run must diagnose and
// the evidence it must show.
type helpdeskCase struct {
	name, scenario string
	args           []string
	want           want // judged by judge (diagnosis_test.go)
	check          func(t *testing.T, r *ucReport)
}

func helpdeskCases() []helpdeskCase {
	// 5 % each way: a relay loopback crosses the lossy router twice (about
	// 10 % of round trips lost); relay-relay ICE up to four times (about
	// 19 %; 8-10 % measured when one end's relay is reached over TCP).
	loss := func(id string, lo, hi float64) func(t *testing.T, r *ucReport) {
		return func(t *testing.T, r *ucReport) {
			f := r.finding("packet-loss")
			wantEvidence(t, f, id)
			c := r.check(id)
			if c == nil || c.Details.ICE == nil || c.Details.ICE.Media == nil {
				t.Fatalf("no media on %s", id)
			}
			// Random loss: a range, not a number.
			if m := c.Details.ICE.Media; m.LossPct < lo || m.LossPct > hi || m.Sent < 50 {
				t.Errorf("%s: loss %.1f %% of %d, want %g-%g %% of at least 50", id, m.LossPct, m.Sent, lo, hi)
			}
		}
	}
	return []helpdeskCase{
		{
			// coturn on one address (no RFC 5780) behind a fully random NAT:
			// only the relay's view of the client shows the mapping depends
			// on the destination.
			name: "helpdesk/symmetric-nat-one-turn", scenario: "symmetric-nat", args: helpdeskXphone(NameTURN1),
			want: want{verdict: "degraded", headline: "symmetric-nat", warning: []string{"symmetric-nat"}, info: []string{"untested"}},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("symmetric-nat")
				wantEvidence(t, f, "turn-udp")
				if f == nil {
					return // the cause assertions report a missing finding
				}
				if f.fact("method") != "turn-relay" || f.fact("mapping") != "address-and-port-dependent" || !strings.Contains(f.Detail, "(turn-relay)") {
					t.Errorf("symmetric-nat facts %v: want the relay's address-and-port-dependent mapping", f.Facts)
				}
				if n := r.Env.NAT; n == nil || n.Mapping != "address-and-port-dependent" {
					t.Errorf("environment nat %+v", n)
				}
				if s := r.check("stun"); s == nil || s.Details.STUN == nil || s.Details.STUN.NAT == nil || s.Details.STUN.NAT.Mapping != "unknown" {
					t.Errorf("the stun check alone must not know the mapping (one address, no RFC 5780): %+v", s)
				}
				wantStatus(t, r, "turn-udp", "pass")
				wantStatus(t, r, "media-relay", "pass")
			},
		},
		{
			name: "helpdesk/lossy-udp/xphone", scenario: "lossy-udp", args: helpdeskXphone(NameTURN),
			want:  want{verdict: "degraded", headline: "packet-loss", warning: []string{"packet-loss"}, info: []string{"untested"}},
			check: loss("media-relay", 3, 25),
		},
		{
			name: "helpdesk/lossy-udp/estos-procall", scenario: "lossy-udp",
			args:  []string{"--profile", "estos-procall", "--set", "ucconnect=" + NameWSS, "--ca-file", CAFile(), "--timeout", caseTimeout},
			want:  want{verdict: "degraded", headline: "packet-loss", warning: []string{"packet-loss"}},
			check: loss("ice-relay", 3, 40),
		},
		{
			name: "helpdesk/lossy-udp/generic", scenario: "lossy-udp",
			args: []string{"--profile", "generic", "--server", NameTURN, "--set", "tcp=5349", "--set", "stun=3478", "--set", "turn=3478",
				"--ca-file", CAFile(), "--timeout", caseTimeout},
			want:  want{verdict: "degraded", headline: "packet-loss", warning: []string{"packet-loss"}},
			check: loss("media-relay", 3, 25),
		},
		{
			// The echo host answers STUN on 30000-33000, as a media server or
			// SBC does on its ports (the lab's responder wants its token and
			// stays silent); the site drops 31000-33000.
			name: "helpdesk/range-partial", scenario: "range-partial",
			args: []string{"--profile", "xphone", "--server", NameEcho, "--set", "turn=" + NameTURN, "--ca-file", CAFile(), "--timeout", caseTimeout},
			want: want{verdict: "failed", headline: "udp-port-range-blocked", critical: []string{"udp-port-range-blocked"}, info: []string{"untested"}},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("udp-port-range-blocked")
				wantEvidence(t, f, "media-range")
				if f == nil {
					return // the cause assertions report a missing finding
				}
				if f.fact("blocked") != "31000-33000" || !strings.Contains(f.Detail, "Sampled live without a responder") {
					t.Errorf("blocked %q: %s", f.fact("blocked"), f.Detail)
				}
				wantSubRange(t, r, "media-range", 31000, 33000, "filtered", "")
			},
		},
	}
}

// TestHelpdesk runs the helpdesk cases: the exact critical and warning
// causes, the info causes named, and each case's evidence.
func TestHelpdesk(t *testing.T) {
	Require(t)
	for _, c := range helpdeskCases() {
		t.Run(c.name, func(t *testing.T) {
			Scenario(t, c.scenario)
			r, _, took := runUcprobe(t, c.args)
			t.Logf("ucprobe run %s (%.1f s)\n%s", strings.Join(c.args, " "), took.Seconds(), summary(r))
			judge(t, c.want, r)
			c.check(t, r)
		})
	}
}

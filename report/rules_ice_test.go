package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

var limits = profiles.Limits{RTTMS: 100, JitterMS: 30, LossPct: 1, MOSMin: 3.1}

func TestICERules(t *testing.T) {
	allFailed := []probe.ICEPair{pair(hostA, hostB, "failed", false), pair(srflxA, srflxB, "failed", false), pair(relayA, relayB, "failed", false)}
	for _, tc := range []struct {
		name   string
		checks []probe.Result
		limits profiles.Limits
		want   []Cause
		// words that must be in the first finding's title+detail
		words []string
		sev   Severity
	}{
		{
			name: "direct pair, good media: nothing to say",
			checks: []probe.Result{siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "host",
				LocalCandidates: []probe.ICECandidate{hostA}, Pairs: []probe.ICEPair{pair(hostA, hostB, "succeeded", true)}, Media: goodMedia()}).r()},
			want: nil,
		},
		{
			name: "symmetric NAT: relay only, says which direct pairs failed",
			checks: []probe.Result{siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "relay/udp",
				LocalCandidates: []probe.ICECandidate{hostA, srflxA, relayA},
				Pairs:           []probe.ICEPair{pair(relayA, relayB, "succeeded", true), pair(hostA, hostB, "failed", false), pair(srflxA, srflxB, "failed", false)},
				Media:           goodMedia()}).r()},
			want:  []Cause{cause.RelayOnly},
			words: []string{"relay/udp", "2 direct pairs", "srflx 198.51.100.1:40000 -> srflx 198.51.100.2:30010 (failed, 20 sent, 0 answered)"},
			sev:   SeverityWarning,
		},
		{
			name: "UDP blocked, TURN over TCP: says media runs over TCP",
			checks: []probe.Result{siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "relay/tcp",
				LocalCandidates: []probe.ICECandidate{hostA, relayT},
				Pairs:           []probe.ICEPair{pair(relayT, hostB, "succeeded", true), pair(hostA, hostB, "failed", false)}}).r()},
			want:  []Cause{cause.RelayOnly},
			words: []string{"relay/tcp", "Media runs over TCP", "1 direct pair "},
		},
		{
			name: "relay-relay is relayed by design: no relay-only",
			checks: []probe.Result{siteICE.ice("relay-relay", probe.ICEDetails{SelectedVia: "relay/udp",
				LocalCandidates: []probe.ICECandidate{relayA}, Pairs: []probe.ICEPair{pair(relayA, relayB, "succeeded", true)}}).r()},
			want: nil,
		},
		{
			name: "one-ended, host to peer relay works: no relay-only",
			checks: []probe.Result{siteICE.ice("one-ended", probe.ICEDetails{SelectedVia: "relay/udp",
				LocalCandidates: []probe.ICECandidate{hostA, relayA}, Pairs: []probe.ICEPair{pair(hostA, relayB, "succeeded", true)}}).r()},
			want: nil,
		},
		{
			name: "one-ended, only the local relay reaches the peer: relay-only",
			checks: []probe.Result{siteICE.ice("one-ended", probe.ICEDetails{SelectedVia: "relay/tcp",
				LocalCandidates: []probe.ICECandidate{hostA, relayT}, Pairs: []probe.ICEPair{pair(relayT, relayB, "succeeded", true), pair(hostA, relayB, "failed", false)}}).r()},
			want:  []Cause{cause.RelayOnly},
			words: []string{"host 192.168.0.2:50000 -> relay 203.0.113.10:49160"},
		},
		{
			name: "TURN unreachable and symmetric NAT: ice-failed, all checks timed out, no relay",
			checks: []probe.Result{
				siteICE.failed(probe.ClassTimeout).ice("two-ended", probe.ICEDetails{RelayExpected: true,
					Servers:         []string{"stun:203.0.113.10:3478", "turn:203.0.113.10:3478?transport=udp"},
					LocalCandidates: []probe.ICECandidate{hostA}, RemoteCandidates: []probe.ICECandidate{hostB},
					Pairs: []probe.ICEPair{pair(hostA, hostB, "failed", false)}}).r(),
				check("turn-udp", probe.KindTURN).failed(probe.ClassTimeout).r(),
			},
			// The TURN check names no server the ICE check used, so its
			// cause cannot explain the ICE failure: both stand.
			want:  []Cause{cause.TURNUnreachable, cause.ICEFailed},
			words: []string{"No server-reflexive candidate", "no relay candidate", "(see turn-udp)", "all 1 candidate pair timed out", "1 host, 0 srflx, 0 relay"},
			sev:   SeverityCritical,
		},
		{
			name: "relay checks answered but failed",
			checks: []probe.Result{siteICE.failed(probe.ClassProtocol).ice("one-ended", probe.ICEDetails{RelayExpected: true,
				LocalCandidates: []probe.ICECandidate{hostA, srflxA, relayA}, RemoteCandidates: []probe.ICECandidate{relayB},
				Pairs: append(slices.Clone(allFailed[:2]), probe.ICEPair{Local: relayA, Remote: relayB, State: "failed", RequestsSent: 20, ResponsesReceived: 1})}).r()},
			want:  []Cause{cause.ICEFailed},
			words: []string{"1 of 3 pairs were answered"},
		},
		{
			name:   "no TURN credentials for relay-relay",
			checks: []probe.Result{siteICE.failed(probe.ClassAuth).ice("relay-relay", probe.ICEDetails{TURNCredentials: "none"}).r()},
			want:   []Cause{cause.ICEFailed},
			words:  []string{"needs TURN credentials", "--turn-user"},
		},
		{
			name: "wrong token at the responder",
			checks: []probe.Result{siteICE.failed(probe.ClassAuth).ice("two-ended", probe.ICEDetails{
				Signalling: &probe.ICESignalling{URL: "http://192.0.2.7:8480/v1/ice/", Stage: "offer", StatusCode: 401}}).r()},
			want:  []Cause{cause.ICESignalling},
			words: []string{"refused the token", "not tested"},
		},
		{
			name: "media beyond the limits: loss, latency, jitter with numbers",
			checks: []probe.Result{siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "host",
				LocalCandidates: []probe.ICECandidate{hostA}, Pairs: []probe.ICEPair{pair(hostA, hostB, "succeeded", true)},
				Media: &probe.MediaStats{Codec: "G.711", PacketMS: 20, DurationS: 5, Sent: 250, Received: 235, LossPct: 6, RTTMeanMS: 140, RTTP95MS: 180, JitterMS: 35, MOS: 3.2, Grade: "fair"}}).r()},
			want:  []Cause{cause.PacketLoss, cause.HighLatency, cause.HighJitter},
			words: []string{"6.0 %", "1.0 %", "MOS 3.20 (fair)"},
			sev:   SeverityWarning,
		},
		{
			name: "Imagicle's 80 ms limit",
			checks: []probe.Result{siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "host",
				Pairs: []probe.ICEPair{pair(hostA, hostB, "succeeded", true)},
				Media: &probe.MediaStats{Codec: "G.711", Sent: 250, Received: 250, RTTMeanMS: 90, JitterMS: 3, MOS: 4.3}}).r()},
			limits: profiles.Limits{RTTMS: 80, JitterMS: 30, LossPct: 1, Source: `Imagicle, "Network protocols and ports in use" (UCX Suite documentation), section "Traffic requirements"`},
			want:   []Cause{cause.HighLatency},
			words:  []string{"90 ms", "80 ms", "Traffic requirements"},
		},
		{
			name: "connected, but no echo came back: 100 % loss",
			checks: []probe.Result{siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "host",
				Pairs: []probe.ICEPair{pair(hostA, hostB, "succeeded", true)},
				Media: &probe.MediaStats{Codec: "G.711", Sent: 250, Received: 0, LossPct: 100, MOS: 1, Grade: "degraded"}}).r()},
			want:  []Cause{cause.PacketLoss},
			words: []string{"100.0 %"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits
			if tc.limits != (profiles.Limits{}) {
				lim = tc.limits
			}
			fs := Diagnose(Input{Checks: tc.checks, Limits: lim}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v", got, tc.want)
			}
			if len(fs) == 0 {
				return
			}
			i := slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == tc.want[len(tc.want)-1] })
			if tc.want[0] != cause.TURNUnreachable {
				i = 0
			}
			text := fs[i].Title + " " + fs[i].Detail + " " + strings.Join(fs[i].Refs, " ")
			for _, w := range tc.words {
				if !strings.Contains(text, w) {
					t.Errorf("%q not in %q", w, text)
				}
			}
			if tc.sev != "" && fs[i].Severity != tc.sev {
				t.Errorf("severity %s, want %s", fs[i].Severity, tc.sev)
			}
			if !slices.Contains(fs[i].Evidence, "ice") {
				t.Errorf("evidence %v lacks the ice check", fs[i].Evidence)
			}
		})
	}
}

// The pair table: one line per pair, the selected one marked, in 80 columns.
func TestICEText(t *testing.T) {
	m := goodMedia()
	m.Transport = "tcp"
	res := siteICE.ice("two-ended", probe.ICEDetails{SelectedVia: "relay/tcp", ConnectedMS: 312, GatheringMS: 40,
		LocalCandidates: []probe.ICECandidate{hostA, relayT}, RemoteCandidates: []probe.ICECandidate{hostB},
		Pairs: []probe.ICEPair{pair(relayT, hostB, "succeeded", true), pair(hostA, hostB, "failed", false)}, Media: m}).r()
	rep := &Report{Profile: "xphone", Started: time.Unix(0, 0), Checks: []probe.Result{res}}
	var buf bytes.Buffer
	if err := WriteText(&buf, rep, TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{
		"* rly/t 203.0.113.10:49200    > host  10.2.0.2:30000        ok    21.5 3/20",
		"  host  192.168.0.2:50000     > host  10.2.0.2:30000        fail     - 0/20",
		"connected in 312 ms via relay/tcp",
		"MOS 4.38 excellent, over TCP",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("%q not in\n%s", w, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 80 {
			t.Errorf("line longer than 80: %q", l)
		}
	}
	// Without --verbose a passing check shows the summary, not the table.
	buf.Reset()
	_ = WriteText(&buf, rep, TextOptions{})
	if strings.Contains(buf.String(), "> host") || !strings.Contains(buf.String(), "MOS 4.38") {
		t.Errorf("summary:\n%s", buf.String())
	}
	b, _ := json.Marshal(rep)
	if !strings.Contains(string(b), `"selected_via":"relay/tcp"`) {
		t.Error("JSON lacks the selected path")
	}
}

// Through a symmetric NAT to a firewalled site (the lab's
// symmetric-nat-site-fw): one warning, relay-only, that names the NAT and
// folds the symmetric-nat finding.
func TestRelayOnlyExplainsSymmetricNAT(t *testing.T) {
	ice := siteICE.ice("two-ended", probe.ICEDetails{State: "connected", SelectedVia: "relay/udp", Pairs: []probe.ICEPair{
		pair(hostA, hostB, "failed", false), pair(srflxA, hostB, "failed", false), pair(relayA, hostB, "succeeded", true)}}).r()
	stun := stunBase.nat(probe.NATAddressAndPortDependent).r()
	fs := Diagnose(Input{Checks: []probe.Result{tlsOK, stun, turnUDPOK, ice}, Limits: limits}, nil)
	if got := causes(fs); !slices.Equal(got, []Cause{cause.RelayOnly}) {
		t.Fatalf("causes %v, want [relay-only]", got)
	}
	f := fs[0]
	if !slices.Equal(f.Explains, []Cause{cause.SymmetricNAT}) || !slices.Contains(f.Evidence, "stun") ||
		f.Facts["nat_mapping"] != string(probe.NATAddressAndPortDependent) || !strings.Contains(f.Detail, "NAT is symmetric") {
		t.Errorf("explains %v evidence %v facts %v detail %q", f.Explains, f.Evidence, f.Facts, f.Detail)
	}
	// Without a symmetric NAT relay-only stands alone and says nothing of NAT.
	fs = Diagnose(Input{Checks: []probe.Result{tlsOK, stunBase.nat(probe.NATEndpointIndependent).r(), turnUDPOK, ice}, Limits: limits}, nil)
	if got := causes(fs); !slices.Equal(got, []Cause{cause.RelayOnly}) || strings.Contains(fs[0].Detail, "symmetric") {
		t.Errorf("causes %v detail %q", got, fs[0].Detail)
	}
}

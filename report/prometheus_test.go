package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/probe/probetest"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/ucprobe/ucprobe/probe"
)

// syntheticReport has evidence of every kind, including a check run against
// two addresses of one name, so folding and label bounds can be asserted.
func syntheticReport() *Report {
	notAfter := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Report{
		Schema: Schema, Profile: "xphone", Verdict: VerdictFailed, DurationMS: 1234.5,
		Started:   time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC),
		Variables: map[string]string{"server": "pbx.example.com", "turn": "turn.example.com"},
		Checks: []probe.Result{
			{ID: "dns:pbx.example.com", Kind: probe.KindDNS, Host: "pbx.example.com", Status: probe.StatusPass, DurationMS: 4,
				Details: probe.Details{DNS: &probe.DNSDetails{Name: "pbx.example.com", AMS: 3, AAAAMS: 4}}},
			{ID: "dns:turn.example.com", Kind: probe.KindDNS, Host: "turn.example.com", Status: probe.StatusPass, DurationMS: 2},
			{ID: "signalling@192.0.2.1", Kind: probe.KindTCP, Address: "192.0.2.1", Port: 2230, Status: probe.StatusPass, DurationMS: 10,
				Details: probe.Details{TCP: &probe.TCPDetails{ConnectMS: 10}}},
			{ID: "signalling@192.0.2.2", Kind: probe.KindTCP, Address: "192.0.2.2", Port: 2230, Status: probe.StatusFail, Class: probe.ClassRefused, DurationMS: 20,
				Details: probe.Details{TCP: &probe.TCPDetails{ConnectMS: 20}}},
			{ID: "web", Kind: probe.KindTLS, Status: probe.StatusPass, DurationMS: 30,
				Details: probe.Details{TLS: &probe.TLSDetails{HandshakeMS: 25, NotAfter: notAfter}}},
			{ID: "stun", Kind: probe.KindSTUN, Status: probe.StatusPass, DurationMS: 11,
				Details: probe.Details{STUN: &probe.STUNDetails{RTTMS: 0.5}}},
			{ID: "turn-udp", Kind: probe.KindTURN, Status: probe.StatusPass, DurationMS: 15,
				Details: probe.Details{TURN: &probe.TURNDetails{Steps: map[string]float64{"allocate": 3, "permission": 1}, RelaySent: 5, RelayReceived: 4}}},
			{ID: "turn-tcp", Kind: probe.KindTURN, Status: probe.StatusFail, Class: probe.ClassAuth, Optional: true, DurationMS: 7,
				Details: probe.Details{TURN: &probe.TURNDetails{ErrorCode: 401}}},
			{ID: "media-range@192.0.2.1", Kind: probe.KindUDPRange, Status: probe.StatusFail, DurationMS: 900,
				Details: probe.Details{UDPRange: &probe.UDPRangeDetails{Ranges: "30000-33000", Ports: 3001, Open: 1000, Filtered: 2001}}},
			{ID: "media-range@192.0.2.2", Kind: probe.KindUDPRange, Status: probe.StatusFail, DurationMS: 800,
				Details: probe.Details{UDPRange: &probe.UDPRangeDetails{Ranges: "30000-33000", Ports: 3001, Open: 3000, Closed: 1}}},
			{ID: "ice", Kind: probe.KindICE, Status: probe.StatusPass, DurationMS: 2500,
				Details: probe.Details{ICE: &probe.ICEDetails{State: "connected", GatheringMS: 100, ConnectedMS: 300,
					Selected: &probe.ICEPair{Local: probe.ICECandidate{Type: "relay", Address: "198.51.100.9"}, Remote: probe.ICECandidate{Type: "host", Address: "192.0.2.1"}},
					Media:    &probe.MediaStats{Sent: 250, Received: 245, LossPct: 2, JitterMS: 12, RTTMeanMS: 40, RTTP95MS: 55, MOS: 3.9}}}},
			{ID: "sip", Kind: probe.KindSIP, Status: probe.StatusPass, DurationMS: 5,
				Details: probe.Details{SIP: &probe.SIPDetails{StatusCode: 200, RTTMS: 2}}},
			{ID: "two-ended", Kind: probe.KindICE, Status: probe.StatusSkip, Details: probe.Details{Skipped: "needs a responder"}},
		},
		Findings: []Finding{
			{Cause: cause.PortClosed, Severity: SeverityCritical, Evidence: []string{"signalling@192.0.2.2"}},
			{Cause: cause.PortClosed, Severity: SeverityCritical, Evidence: []string{"other"}},
			{Cause: cause.TURNAuthFailed, Severity: SeverityWarning},
		},
		Environment: probe.Environment{NAT: &probe.NATInfo{Mapping: probe.NATEndpointIndependent}, VPN: probe.VPNInfo{Up: true}},
	}
}

func TestWritePrometheus(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePrometheus(&buf, syntheticReport(), MetricsOptions{}); err != nil {
		t.Fatal(err)
	}
	mfs := probetest.ParseMetrics(t, buf.String())
	type L = map[string]string
	tests := []struct {
		name   string
		labels L
		want   float64
	}{
		{"probe_success", nil, 0},
		{"probe_duration_seconds", nil, 1.2345},
		{"ucprobe_verdict", L{"verdict": "failed"}, 1},
		{"ucprobe_verdict", L{"verdict": "ok"}, 0},
		{"ucprobe_run_timestamp_seconds", nil, float64(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC).Unix())},
		{"ucprobe_checks", L{"status": "fail"}, 4},
		{"ucprobe_checks", L{"status": "skip"}, 1},
		// Two addresses of one check: one series, failed because one failed.
		{"ucprobe_check_success", L{"check": "signalling", "kind": "tcp"}, 0},
		{"ucprobe_check_error", L{"check": "signalling", "kind": "tcp", "class": "refused"}, 1},
		{"ucprobe_check_duration_seconds", L{"check": "signalling", "phase": "connect"}, 0.020},
		{"ucprobe_check_duration_seconds", L{"check": "signalling", "phase": "total"}, 0.020},
		{"ucprobe_check_success", L{"check": "web", "kind": "tls"}, 1},
		{"ucprobe_check_duration_seconds", L{"check": "web", "phase": "handshake"}, 0.025},
		{"ucprobe_tls_cert_expiry_timestamp_seconds", L{"check": "web"}, float64(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Unix())},
		{"ucprobe_check_success", L{"check": "dns:server", "kind": "dns"}, 1},
		{"ucprobe_check_duration_seconds", L{"check": "dns:server", "phase": "resolve_aaaa"}, 0.004},
		{"ucprobe_check_success", L{"check": "dns:turn"}, 1},
		{"ucprobe_stun_rtt_seconds", L{"check": "stun"}, 0.0005},
		{"ucprobe_check_duration_seconds", L{"check": "turn-udp", "phase": "allocate"}, 0.003},
		{"ucprobe_turn_relay_datagrams", L{"check": "turn-udp", "direction": "received"}, 4},
		{"ucprobe_check_error", L{"check": "turn-tcp", "class": "auth"}, 1},
		{"ucprobe_udp_range_open_ports", L{"check": "media-range", "range": "30000-33000"}, 4000},
		{"ucprobe_udp_range_swept_ports", L{"check": "media-range", "range": "30000-33000"}, 6002},
		{"ucprobe_udp_range_ports", L{"check": "media-range", "state": "filtered"}, 2001},
		{"ucprobe_udp_range_ports", L{"check": "media-range", "state": "closed"}, 1},
		{"ucprobe_ice_connected", L{"check": "ice"}, 1},
		{"ucprobe_ice_selected_pair", L{"check": "ice", "local_type": "relay", "remote_type": "host"}, 1},
		{"ucprobe_check_duration_seconds", L{"check": "ice", "kind": "ice", "phase": "gathering"}, 0.1},
		{"ucprobe_media_loss_ratio", L{"check": "ice"}, 0.02},
		{"ucprobe_media_jitter_seconds", L{"check": "ice"}, 0.012},
		{"ucprobe_media_rtt_seconds", L{"check": "ice"}, 0.040},
		{"ucprobe_media_rtt_p95_seconds", L{"check": "ice"}, 0.055},
		{"ucprobe_mos", L{"check": "ice"}, 3.9},
		{"ucprobe_sip_status_code", L{"check": "sip"}, 200},
		{"ucprobe_sip_rtt_seconds", L{"check": "sip"}, 0.002},
		{"ucprobe_check_skipped", L{"check": "two-ended", "kind": "ice"}, 1},
		// Two port-closed findings: one series, value 1.
		{"ucprobe_finding", L{"cause": "port-closed", "severity": "critical"}, 1},
		{"ucprobe_finding", L{"cause": "turn-auth-failed", "severity": "warning"}, 1},
		{"ucprobe_nat_info", L{"mapping": "endpoint-independent"}, 1},
		{"ucprobe_vpn_up", nil, 1},
	}
	for _, tc := range tests {
		got, n := probetest.MetricSamples(mfs, tc.name, tc.labels)
		if n != 1 {
			t.Errorf("%s%v: %d series, want exactly 1", tc.name, tc.labels, n)
			continue
		}
		if diff := got - tc.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	// A skipped check has no success series (absent, not 0).
	if _, n := probetest.MetricSamples(mfs, "ucprobe_check_success", L{"check": "two-ended"}); n != 0 {
		t.Errorf("skipped check has a ucprobe_check_success series")
	}
	// Bounded labels: no address ever becomes a label value.
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				v := lp.GetValue()
				if _, err := netip.ParseAddr(v); err == nil || strings.Contains(v, "@") || strings.Contains(v, "example.com") {
					t.Errorf("%s has an unbounded label value %s=%q", name, lp.GetName(), v)
				}
			}
		}
	}
	// The same linter as `promtool check metrics`.
	problems, err := promlint.New(bytes.NewReader(buf.Bytes())).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestWritePrometheusConstLabelsAndEmpty(t *testing.T) {
	r := &Report{Schema: Schema, Profile: "generic", Verdict: VerdictOK, Checks: []probe.Result{}}
	var buf bytes.Buffer
	opt := MetricsOptions{ConstLabels: map[string]string{"profile": "generic", "target": "pbx.example.com"}}
	if err := WritePrometheus(&buf, r, opt); err != nil {
		t.Fatal(err)
	}
	mfs := probetest.ParseMetrics(t, buf.String())
	if v, n := probetest.MetricSamples(mfs, "probe_success", map[string]string{"profile": "generic", "target": "pbx.example.com"}); n != 1 || v != 1 {
		t.Errorf("probe_success with const labels: %v (%d series), want 1\n%s", v, n, buf.String())
	}
	if _, n := probetest.MetricSamples(mfs, "ucprobe_finding", nil); n != 0 {
		t.Errorf("a report without findings has %d ucprobe_finding series", n)
	}
	if _, n := probetest.MetricSamples(mfs, "ucprobe_run_timestamp_seconds", nil); n != 0 {
		t.Errorf("a zero start time was exported")
	}
}

func BenchmarkWritePrometheus(b *testing.B) {
	r := syntheticReport()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WritePrometheus(&buf, r, MetricsOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

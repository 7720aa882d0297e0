package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/profiles"
)

type want struct {
	cause    Cause
	severity Severity
	evidence []string
}

func TestDiagnoseReachability(t *testing.T) {
	sig := check("sig", probe.KindTCP).at("x.example", "192.0.2.1").port(2230)
	tls := check("tls", probe.KindTLS).at("uc.example", "192.0.2.5").port(443)
	ws := check("ws", probe.KindWebSocket).at("uc.example", "192.0.2.5").port(443)
	tests := []struct {
		name   string
		checks []probe.Result
		want   []want // in report order; the first is the headline
	}{
		{
			name:   "all pass",
			checks: []probe.Result{sig.r()},
		},
		{
			name: "no responder: the media range is named as untested (info), verdict unchanged",
			checks: []probe.Result{
				sig.r(),
				check("media", probe.KindUDPRange).noResponder().r(),
				check("opt", probe.KindUDPRange).noResponder().optional().r(),
			},
			want: []want{{cause.Untested, SeverityInfo, []string{"media"}}},
		},
		{
			name:   "closed port is port-closed, not tcp-blocked",
			checks: []probe.Result{check("sig", probe.KindTCP).at("127.0.0.1", "").port(2230).failed(probe.ClassRefused).r()},
			want:   []want{{cause.PortClosed, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "filtered port while the host answers elsewhere is tcp-blocked",
			checks: []probe.Result{
				sig.failed(probe.ClassTimeout).r(),
				check("web", probe.KindTCP).at("x.example", "192.0.2.1").port(443).r(),
			},
			want: []want{{cause.TCPBlocked, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "admin-prohibited TCP is tcp-blocked",
			checks: []probe.Result{
				sig.failed(probe.ClassProhibited).r(),
			},
			want: []want{{cause.TCPBlocked, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "everything silent is host-unreachable, tcp-blocked folded",
			checks: []probe.Result{
				check("a", probe.KindTCP).at("x.example", "192.0.2.1").port(2230).failed(probe.ClassTimeout).r(),
				check("b", probe.KindTCP).at("x.example", "192.0.2.1").port(443).failed(probe.ClassTimeout).r(),
			},
			want: []want{{cause.HostUnreachable, SeverityCritical, []string{"a", "b"}}},
		},
		{
			name:   "ICMP unreachable is no-route",
			checks: []probe.Result{sig.failed(probe.ClassUnreachable).r()},
			want:   []want{{cause.NoRoute, SeverityCritical, []string{"sig"}}},
		},
		{
			name:   "optional check failing is a warning",
			checks: []probe.Result{check("opt", probe.KindTCP).at("x.example", "").port(80).failed(probe.ClassRefused).optional().r()},
			want:   []want{{cause.PortClosed, SeverityWarning, []string{"opt"}}},
		},
		{
			name: "one of two addresses unreachable is multi-homed-server, not tcp-blocked",
			checks: []probe.Result{
				check("sig@192.0.2.1", probe.KindTCP).at("x.example", "192.0.2.1").port(2230).r(),
				check("sig@198.51.100.1", probe.KindTCP).at("x.example", "198.51.100.1").port(2230).failed(probe.ClassTimeout).r(),
			},
			want: []want{{cause.MultiHomedServer, SeverityCritical, []string{"sig@198.51.100.1"}}},
		},
		{
			name: "both addresses failing is not multi-homed",
			checks: []probe.Result{
				check("sig@192.0.2.1", probe.KindTCP).at("x.example", "192.0.2.1").port(2230).failed(probe.ClassRefused).r(),
				check("sig@198.51.100.1", probe.KindTCP).at("x.example", "198.51.100.1").port(2230).failed(probe.ClassRefused).r(),
			},
			want: []want{
				{cause.PortClosed, SeverityCritical, []string{"sig@192.0.2.1"}},
				{cause.PortClosed, SeverityCritical, []string{"sig@198.51.100.1"}},
			},
		},
		{
			name: "NXDOMAIN is dns-failure with the skipped checks as evidence",
			checks: []probe.Result{
				check("dns:x.example", probe.KindDNS).at("x.example", "").failed(probe.ClassDNS).err("lookup x.example: no such host").
					details(probe.Details{DNS: &probe.DNSDetails{Name: "x.example", NotFound: true}}).r(),
				check("sig", probe.KindTCP).at("x.example", "").port(443).skipped(probe.ClassDNS).r(),
			},
			want: []want{{cause.DNSFailure, SeverityCritical, []string{"dns:x.example", "sig"}}},
		},
		{
			name:   "untrusted certificate",
			checks: []probe.Result{tls.failed(probe.ClassTLS).cert(false, probe.VerifyUnknownAuthority).r()},
			want:   []want{{cause.TLSUntrusted, SeverityCritical, []string{"tls"}}},
		},
		{
			name:   "expiring certificate is a warning",
			checks: []probe.Result{tls.warned("").cert(true, "").with(func(r *probe.Result) { r.Details.TLS.DaysLeft = 5 }).r()},
			want:   []want{{cause.TLSExpiring, SeverityWarning, []string{"tls"}}},
		},
		{
			name: "upgrade refused after good TLS is websocket-blocked",
			checks: []probe.Result{
				tls.cert(true, "").r(),
				ws.failed(probe.ClassProtocol).upgrade(probe.WSStageUpgrade, 403).r(),
			},
			want: []want{{cause.WebSocketBlocked, SeverityCritical, []string{"ws"}}},
		},
		{
			name: "websocket failing at TLS is the TLS cause, not websocket-blocked",
			checks: []probe.Result{ws.failed(probe.ClassTLS).upgrade(probe.WSStageTLS, 0).with(func(r *probe.Result) {
				r.Details.WebSocket.TLS = &probe.TLSDetails{Version: "TLS 1.3", Verified: false, VerifyReason: probe.VerifyUnknownAuthority}
			}).r()},
			want: []want{{cause.TLSUntrusted, SeverityCritical, []string{"ws"}}},
		},
		{
			name:   "a failure no rule names still fails the run",
			checks: []probe.Result{check("odd", probe.KindTCP).at("x.example", "").port(1).failed(probe.ClassProtocol).r()},
			want:   []want{{cause.CheckFailed, SeverityCritical, []string{"odd"}}},
		},
	}
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diagnose(Input{Checks: tt.checks, Limits: profiles.DefaultLimits}, p)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings %v, want %d %v", len(got), causes(got), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Cause != w.cause || g.Severity != w.severity || !slices.Equal(g.Evidence, w.evidence) {
					t.Errorf("finding %d: %s %s %v, want %s %s %v", i, g.Cause, g.Severity, g.Evidence, w.cause, w.severity, w.evidence)
				}
				if g.Remedy == "" || g.Title == "" || g.Detail == "" {
					t.Errorf("finding %d lacks title, detail or remedy: %+v", i, g)
				}
			}
		})
	}
}

// Findings carry the profile's remedy and cite its seed.
func TestRemedyQuotesSeed(t *testing.T) {
	p, _ := profiles.Load("xphone")
	got := Diagnose(Input{Checks: []probe.Result{check("signalling", probe.KindTCP).at("x", "").port(2230).failed(probe.ClassTimeout).r(), check("w", probe.KindTCP).at("x", "").port(1).r()}}, p)
	if len(got) != 1 || got[0].Cause != cause.TCPBlocked {
		t.Fatalf("findings %v", causes(got))
	}
	f := got[0]
	if !slices.Equal(f.Refs, []string{p.Remedies["tcp-blocked"].Source}) || f.Quote == "" || f.Remedy != p.Remedies["tcp-blocked"].Text {
		t.Errorf("remedy not from the profile: %+v", f)
	}
}

func TestVerdictAndExitCode(t *testing.T) {
	tests := []struct {
		fs   []Finding
		v    Verdict
		code int
	}{
		{nil, VerdictOK, 0},
		{[]Finding{{Severity: SeverityInfo}}, VerdictOK, 0},
		{[]Finding{{Severity: SeverityWarning}}, VerdictDegraded, 1},
		{[]Finding{{Severity: SeverityWarning}, {Severity: SeverityCritical}}, VerdictFailed, 2},
	}
	for _, tt := range tests {
		if v := VerdictOf(tt.fs); v != tt.v || v.ExitCode() != tt.code {
			t.Errorf("%v: verdict %s exit %d, want %s %d", tt.fs, v, v.ExitCode(), tt.v, tt.code)
		}
	}
}

func causes(fs []Finding) []Cause {
	var out []Cause
	for _, f := range fs {
		out = append(out, f.Cause)
	}
	return out
}

// A closed TURN port and a closed service port on one host are two
// services: the TURN one folds under turn-unreachable, whose remedy is the
// TURN server's, and the service keeps its own port-closed finding.
func TestPortClosedSplitsTURNFromServices(t *testing.T) {
	sig := check("signalling", probe.KindTCP).at("turn.example", "198.51.100.7").port(2230).failed(probe.ClassRefused).r()
	fs := Diagnose(Input{Checks: []probe.Result{sig, turnUDPRef, turnTCPRef}}, nil)
	if got := causes(fs); !slices.Equal(got, []Cause{cause.PortClosed, cause.TURNUnreachable}) {
		t.Fatalf("causes %v, want port-closed and turn-unreachable", got)
	}
	if pc := fs[0]; !slices.Equal(pc.Evidence, []string{"signalling"}) {
		t.Errorf("port-closed evidence %v, want only the service's check", pc.Evidence)
	}
	if tu := fs[1]; !slices.Contains(tu.Explains, cause.PortClosed) || len(tu.Folded) != 1 || !strings.Contains(tu.Folded[0].Title, "3478") {
		t.Errorf("turn-unreachable did not fold the TURN port's port-closed: %+v", tu)
	}
}

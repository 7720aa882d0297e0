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

// ev builds synthetic evidence.
func ev(id string, kind probe.Kind, host, addr string, port int, status probe.Status, class probe.ErrorClass) probe.Result {
	return probe.Result{ID: id, Kind: kind, Host: host, Address: addr, Port: port, Target: host, Status: status, Class: class}
}

func tcp(id, host, addr string, port int, status probe.Status, class probe.ErrorClass) probe.Result {
	return ev(id, probe.KindTCP, host, addr, port, status, class)
}

func dnsFail(host string, notFound bool) probe.Result {
	r := ev("dns:"+host, probe.KindDNS, host, "", 0, probe.StatusFail, probe.ClassDNS)
	r.Details.DNS = &probe.DNSDetails{Name: host, NotFound: notFound}
	r.Error = "lookup " + host + ": no such host"
	return r
}

func skippedDNS(id, host string) probe.Result {
	r := ev(id, probe.KindTCP, host, "", 443, probe.StatusSkip, probe.ClassDNS)
	return r
}

func tlsResult(id, host string, verified bool, reason string, status probe.Status) probe.Result {
	r := ev(id, probe.KindTLS, host, "192.0.2.5", 443, status, "")
	if status == probe.StatusFail {
		r.Class = probe.ClassTLS
	}
	r.Details.TLS = &probe.TLSDetails{Version: "TLS 1.3", Verified: verified, VerifyReason: reason, Issuer: "CN=Corp Inspect CA", DaysLeft: 60, NotAfter: time.Now().Add(60 * 24 * time.Hour)}
	return r
}

func wsResult(id, host, stage string, code int) probe.Result {
	r := ev(id, probe.KindWebSocket, host, "192.0.2.5", 443, probe.StatusFail, probe.ClassProtocol)
	r.Details.WebSocket = &probe.WebSocketDetails{URL: "wss://" + host + "/", Stage: stage, StatusCode: code, Status: "403 Forbidden",
		Headers: map[string]string{"Via": "1.1 proxy"}, TLS: &probe.TLSDetails{Version: "TLS 1.3", Verified: true}}
	return r
}

type want struct {
	cause    Cause
	severity Severity
	evidence []string
}

func TestDiagnoseReachability(t *testing.T) {
	ok := probe.StatusPass
	fail := probe.StatusFail
	tests := []struct {
		name   string
		checks []probe.Result
		want   []want // in report order; the first is the headline
	}{
		{
			name:   "all pass",
			checks: []probe.Result{tcp("sig", "x.example", "192.0.2.1", 2230, ok, "")},
		},
		{
			name: "no responder: the media range is named as untested (info), verdict unchanged",
			checks: []probe.Result{
				tcp("sig", "x.example", "192.0.2.1", 2230, ok, ""),
				{ID: "media", Kind: probe.KindUDPRange, Status: probe.StatusSkip, Error: "needs a ucprobe responder at the far end", Details: probe.Details{SkipReason: probe.SkipNoResponder}},
				{ID: "opt", Kind: probe.KindUDPRange, Status: probe.StatusSkip, Optional: true, Error: "needs a ucprobe responder at the far end", Details: probe.Details{SkipReason: probe.SkipNoResponder}},
			},
			want: []want{{cause.Untested, SeverityInfo, []string{"media"}}},
		},
		{
			name:   "closed port is port-closed, not tcp-blocked",
			checks: []probe.Result{tcp("sig", "127.0.0.1", "", 2230, fail, probe.ClassRefused)},
			want:   []want{{cause.PortClosed, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "filtered port while the host answers elsewhere is tcp-blocked",
			checks: []probe.Result{
				tcp("sig", "x.example", "192.0.2.1", 2230, fail, probe.ClassTimeout),
				tcp("web", "x.example", "192.0.2.1", 443, ok, ""),
			},
			want: []want{{cause.TCPBlocked, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "admin-prohibited TCP is tcp-blocked",
			checks: []probe.Result{
				tcp("sig", "x.example", "192.0.2.1", 2230, fail, probe.ClassProhibited),
			},
			want: []want{{cause.TCPBlocked, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "everything silent is host-unreachable, tcp-blocked folded",
			checks: []probe.Result{
				tcp("a", "x.example", "192.0.2.1", 2230, fail, probe.ClassTimeout),
				tcp("b", "x.example", "192.0.2.1", 443, fail, probe.ClassTimeout),
			},
			want: []want{{cause.HostUnreachable, SeverityCritical, []string{"a", "b"}}},
		},
		{
			name:   "ICMP unreachable is no-route",
			checks: []probe.Result{tcp("sig", "x.example", "192.0.2.1", 2230, fail, probe.ClassUnreachable)},
			want:   []want{{cause.NoRoute, SeverityCritical, []string{"sig"}}},
		},
		{
			name: "optional check failing is a warning",
			checks: []probe.Result{func() probe.Result {
				r := tcp("opt", "x.example", "", 80, fail, probe.ClassRefused)
				r.Optional = true
				return r
			}()},
			want: []want{{cause.PortClosed, SeverityWarning, []string{"opt"}}},
		},
		{
			name: "one of two addresses unreachable is multi-homed-server, not tcp-blocked",
			checks: []probe.Result{
				tcp("sig@192.0.2.1", "x.example", "192.0.2.1", 2230, ok, ""),
				tcp("sig@198.51.100.1", "x.example", "198.51.100.1", 2230, fail, probe.ClassTimeout),
			},
			want: []want{{cause.MultiHomedServer, SeverityCritical, []string{"sig@198.51.100.1"}}},
		},
		{
			name: "both addresses failing is not multi-homed",
			checks: []probe.Result{
				tcp("sig@192.0.2.1", "x.example", "192.0.2.1", 2230, fail, probe.ClassRefused),
				tcp("sig@198.51.100.1", "x.example", "198.51.100.1", 2230, fail, probe.ClassRefused),
			},
			want: []want{
				{cause.PortClosed, SeverityCritical, []string{"sig@192.0.2.1"}},
				{cause.PortClosed, SeverityCritical, []string{"sig@198.51.100.1"}},
			},
		},
		{
			name:   "NXDOMAIN is dns-failure with the skipped checks as evidence",
			checks: []probe.Result{dnsFail("x.example", true), skippedDNS("sig", "x.example")},
			want:   []want{{cause.DNSFailure, SeverityCritical, []string{"dns:x.example", "sig"}}},
		},
		{
			name:   "untrusted certificate",
			checks: []probe.Result{tlsResult("tls", "uc.example", false, probe.VerifyUnknownAuthority, fail)},
			want:   []want{{cause.TLSUntrusted, SeverityCritical, []string{"tls"}}},
		},
		{
			name: "expiring certificate is a warning",
			checks: []probe.Result{func() probe.Result {
				r := tlsResult("tls", "uc.example", true, "", probe.StatusWarn)
				r.Details.TLS.DaysLeft = 5
				return r
			}()},
			want: []want{{cause.TLSExpiring, SeverityWarning, []string{"tls"}}},
		},
		{
			name: "upgrade refused after good TLS is websocket-blocked",
			checks: []probe.Result{
				tlsResult("tls", "uc.example", true, "", ok),
				wsResult("ws", "uc.example", probe.WSStageUpgrade, 403),
			},
			want: []want{{cause.WebSocketBlocked, SeverityCritical, []string{"ws"}}},
		},
		{
			name: "websocket failing at TLS is the TLS cause, not websocket-blocked",
			checks: []probe.Result{func() probe.Result {
				r := wsResult("ws", "uc.example", probe.WSStageTLS, 0)
				r.Class = probe.ClassTLS
				r.Details.WebSocket.TLS = &probe.TLSDetails{Version: "TLS 1.3", Verified: false, VerifyReason: probe.VerifyUnknownAuthority}
				return r
			}()},
			want: []want{{cause.TLSUntrusted, SeverityCritical, []string{"ws"}}},
		},
		{
			name: "a failure no rule names still fails the run",
			checks: []probe.Result{func() probe.Result {
				r := ev("odd", probe.KindTCP, "x.example", "", 1, fail, probe.ClassProtocol)
				return r
			}()},
			want: []want{{cause.CheckFailed, SeverityCritical, []string{"odd"}}},
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
	got := Diagnose(Input{Checks: []probe.Result{tcp("signalling", "x", "", 2230, probe.StatusFail, probe.ClassTimeout), tcp("w", "x", "", 1, probe.StatusPass, "")}}, p)
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
	sig := tcp("signalling", "turn.example", "198.51.100.7", 2230, probe.StatusFail, probe.ClassRefused)
	tu := check("turn-udp", probe.KindTURN).udp().atTURN().failed(probe.ClassRefused).creds(probe.CredLongTerm, 0).r()
	tt := check("turn-tcp", probe.KindTURN).tcp().atTURN().failed(probe.ClassRefused).creds(probe.CredLongTerm, 0).r()
	fs := Diagnose(Input{Checks: []probe.Result{sig, tu, tt}}, nil)
	if got := causesOf(fs); !slices.Equal(got, []Cause{cause.PortClosed, cause.TURNUnreachable}) {
		t.Fatalf("causes %v, want port-closed and turn-unreachable", got)
	}
	if pc := fs[0]; !slices.Equal(pc.Evidence, []string{"signalling"}) {
		t.Errorf("port-closed evidence %v, want only the service's check", pc.Evidence)
	}
	if tu := fs[1]; !slices.Contains(tu.Explains, cause.PortClosed) || len(tu.Folded) != 1 || !strings.Contains(tu.Folded[0].Title, "3478") {
		t.Errorf("turn-unreachable did not fold the TURN port's port-closed: %+v", tu)
	}
}

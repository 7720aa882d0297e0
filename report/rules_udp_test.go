package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

// The UDP rules' checks, all against turn.example:3478 (atTURN): bases to
// refine, and the outcomes the tests share.
var (
	stunBase    = check("stun", probe.KindSTUN).udp().atTURN()
	turnUDPBase = check("turn-udp", probe.KindTURN).udp().atTURN().creds(probe.CredLongTerm, 0)
	turnTCPBase = check("turn-tcp", probe.KindTURN).tcp().atTURN().creds(probe.CredLongTerm, 0)

	tlsOK           = check("tls", probe.KindTLS).atTURN().r()
	tlsDown         = check("tls", probe.KindTLS).atTURN().failed(probe.ClassTimeout).r()
	stunSilent      = stunBase.failed(probe.ClassTimeout).r()
	stunOK          = stunBase.r()
	stunRefused     = stunBase.failed(probe.ClassRefused).r()
	turnUDPSil      = turnUDPBase.failed(probe.ClassTimeout).r()
	turnUDPRef      = turnUDPBase.failed(probe.ClassRefused).r()
	turnTCPOK       = turnTCPBase.r()
	turnTCPSil      = turnTCPBase.failed(probe.ClassTimeout).r()
	turnTCPRef      = turnTCPBase.failed(probe.ClassRefused).r()
	turnUDPOK       = turnUDPBase.r()
	turnUDP401      = turnUDPBase.failed(probe.ClassAuth).creds(probe.CredLongTerm, 401).r()
	turnREST441     = turnUDPBase.failed(probe.ClassAuth).creds(probe.CredREST, 441).r()
	turnNoCreds     = turnUDPBase.warned(probe.ClassAuth).creds(probe.CredNone, 401).r()
	turnRelaySilent = turnUDPBase.failed(probe.ClassProtocol).relay("198.51.100.7:50000", 5).r()
	pbxSigOK        = check("sig", probe.KindTCP).tcp().atPBX().r()
	pbxRangeSilent  = check("range", probe.KindUDPRange).atPBX().failed("").ranges("30000-30099").swept(100, 0, 0).r()
	sipSilent       = check("sip", probe.KindSIP).udp().atTURN().failed(probe.ClassTimeout).r()
)

func TestRulesUDP(t *testing.T) {
	vpnRoute := probe.Environment{Routes: []probe.Route{{Destination: "198.51.100.7", Interface: "tun0", ViaVPN: true}}}
	cases := []struct {
		name   string
		checks []probe.Result
		env    probe.Environment
		want   []Cause // exactly these causes, in order
		sev    Severity
	}{
		// udp-blocked needs two independent UDP services failing on hosts
		// TCP reaches; STUN and TURN on one host:port are one service.
		{"one service: STUN and TURN UDP silent on one port, TURN TCP works", []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK}, probe.Environment{}, []Cause{cause.UDPServiceBlocked}, SeverityCritical},
		{"udp blocked: STUN/TURN and the media range silent, TCP works to both hosts", []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK, pbxRangeSilent, pbxSigOK}, probe.Environment{}, []Cause{cause.UDPBlocked}, SeverityCritical},
		{"not udp-blocked: the second silent service's host gets no TCP either", []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK, pbxRangeSilent}, probe.Environment{}, []Cause{cause.UDPServiceBlocked, cause.UDPPortRangeBlocked}, SeverityCritical},
		{"udp blocked: STUN/TURN silent and a live sample of the server's range silent, TCP works to both hosts", []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK, check("range", probe.KindUDPRange).atPBX().warned("").ranges("30000-30099").swept(64, 0, 0).sweep(func(d *probe.UDPRangeDetails) { d.Live = &probe.UDPLiveDetails{} }).r(), pbxSigOK}, probe.Environment{}, []Cause{cause.UDPBlocked}, SeverityCritical},
		{"one service whose TCP fails too is that service: turn-unreachable", []probe.Result{stunSilent, turnUDPSil, turnTCPSil, pbxSigOK}, probe.Environment{}, []Cause{cause.TURNUnreachable}, SeverityCritical},
		{"udp blocked: silent range and SIP, TLS works", []probe.Result{tlsOK, check("range", probe.KindUDPRange).atTURN().failed("").ranges("30000-30099").swept(100, 0, 0).r(), sipSilent}, probe.Environment{}, []Cause{cause.UDPBlocked}, SeverityCritical},
		{"not udp-blocked: a range port answered", []probe.Result{tlsOK, stunSilent, check("range", probe.KindUDPRange).atTURN().failed("").ranges("30000-30099").swept(100, 3, 0).r()}, probe.Environment{}, []Cause{cause.UDPPortRangeBlocked, cause.CheckFailed}, SeverityCritical},
		{"not udp-blocked: STUN refused proves UDP reaches the host", []probe.Result{tlsOK, stunRefused}, probe.Environment{}, []Cause{cause.CheckFailed}, SeverityCritical},
		{"not udp-blocked: TCP does not work either", []probe.Result{tlsDown, stunSilent, turnUDPSil, turnTCPSil}, probe.Environment{}, []Cause{cause.HostUnreachable, cause.TURNUnreachable}, SeverityCritical},
		{"not udp-blocked: every failing UDP path is a VPN tunnel", []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK}, vpnRoute, []Cause{cause.VPNNoUDP}, SeverityCritical},
		{"not udp-blocked: STUN answers", []probe.Result{tlsOK, stunOK, turnUDPOK}, probe.Environment{}, nil, ""},
		{"turn-auth-failed long-term", []probe.Result{tlsOK, stunOK, turnUDP401}, probe.Environment{}, []Cause{cause.TURNAuthFailed}, SeverityCritical},
		{"turn-auth-failed REST", []probe.Result{turnREST441}, probe.Environment{}, []Cause{cause.TURNAuthFailed}, SeverityCritical},
		{"no credentials is not auth-failed", []probe.Result{tlsOK, turnNoCreds}, probe.Environment{}, []Cause{cause.TURNUntested}, SeverityWarning},
		{"turn-unreachable: refused on every transport", []probe.Result{turnUDPRef, turnTCPRef}, probe.Environment{}, []Cause{cause.TURNUnreachable}, SeverityCritical},
		{"not turn-unreachable: TCP works", []probe.Result{tlsOK, stunRefused, turnUDPRef, turnTCPOK}, probe.Environment{}, []Cause{cause.CheckFailed, cause.CheckFailed}, SeverityCritical},
		{"turn-relay-failed: allocation works, relay silent", []probe.Result{tlsOK, stunOK, turnRelaySilent}, probe.Environment{}, []Cause{cause.TURNRelayFailed}, SeverityCritical},
		{"symmetric NAT, no TURN", []probe.Result{stunBase.nat(probe.NATAddressAndPortDependent).r()}, probe.Environment{}, []Cause{cause.SymmetricNAT}, SeverityWarning},
		{"symmetric NAT with a working TURN is still a warning (TURN is required)", []probe.Result{stunBase.nat(probe.NATAddressDependent).r(), turnUDPOK}, probe.Environment{}, []Cause{cause.SymmetricNAT}, SeverityWarning},
		{"endpoint-independent NAT is fine", []probe.Result{stunBase.nat(probe.NATEndpointIndependent).r()}, probe.Environment{}, nil, ""},
		{"symmetric NAT from the environment", []probe.Result{stunOK}, probe.Environment{NAT: &probe.NATInfo{Mapping: probe.NATAddressAndPortDependent, Checks: []string{"stun"}}}, []Cause{cause.SymmetricNAT}, SeverityWarning},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks, Env: tc.env}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v; findings %+v", got, tc.want, fs)
			}
			if len(fs) > 0 && fs[0].Severity != tc.sev {
				t.Errorf("headline severity %s, want %s", fs[0].Severity, tc.sev)
			}
		})
	}
}

// A TURN that fails on UDP but works on TCP is udp-blocked, and the finding
// tells the user media will relay over TCP.
func TestUDPBlockedTakesRelayOverTCPICE(t *testing.T) {
	ice := check("ice", probe.KindICE).atTURN()
	iceTCP := ice.details(probe.Details{ICE: &probe.ICEDetails{State: "connected", Selected: &probe.ICEPair{Local: probe.ICECandidate{Type: "relay", RelayProtocol: "tcp"}}}}).r()
	iceUDP := ice.details(probe.Details{ICE: &probe.ICEDetails{State: "connected", Selected: &probe.ICEPair{Local: probe.ICECandidate{Type: "relay", RelayProtocol: "udp"}}}}).r()
	fs := Diagnose(Input{Checks: []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK, iceTCP}}, nil)
	if len(fs) != 1 || fs[0].Cause != cause.UDPServiceBlocked || !slices.Contains(fs[0].Evidence, "ice") {
		t.Fatalf("relay over TCP: %+v", fs)
	}
	fs = Diagnose(Input{Checks: []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK, iceUDP}}, nil)
	if len(fs) == 1 && slices.Contains(fs[0].Evidence, "ice") {
		t.Fatalf("relay over UDP is not blocked UDP: %+v", fs)
	}
}

func TestUDPBlockedSaysTCPRelay(t *testing.T) {
	fs := Diagnose(Input{Checks: []probe.Result{tlsOK, stunSilent, turnUDPSil, turnTCPOK, pbxSigOK, pbxRangeSilent}}, nil)
	if len(fs) != 1 || fs[0].Cause != cause.UDPBlocked || fs[0].Facts["media_over"] != "tcp-relay" || !slices.Equal(fs[0].Evidence, []string{"stun", "turn-udp", "range"}) {
		t.Fatalf("%+v", fs)
	}
}

// TURN tried over UDP only and silent, TCP to its host works: the UDP
// service is the cause, and turn-unreachable a symptom folded under it.
func TestUDPBlockedFoldsTURNUnreachable(t *testing.T) {
	fs := Diagnose(Input{Checks: []probe.Result{tlsOK, stunSilent, turnUDPSil}}, nil)
	if got := causes(fs); !slices.Equal(got, []Cause{cause.UDPServiceBlocked}) {
		t.Fatalf("causes %v: %+v", got, fs)
	}
	if !slices.Equal(fs[0].Explains, []Cause{cause.TURNUnreachable}) || fs[0].Facts["media_over"] != "" {
		t.Errorf("explains %v facts %v", fs[0].Explains, fs[0].Facts)
	}
}

func TestSIPRewrite(t *testing.T) {
	sip := check("sip", probe.KindSIP).udp().atTURN()
	nat := sip.details(probe.Details{SIP: &probe.SIPDetails{LocalAddr: "10.0.0.5:5060", Received: "203.0.113.5", RPort: 40000, Rewritten: true}}).r()
	alg := sip.details(probe.Details{SIP: &probe.SIPDetails{LocalAddr: "10.0.0.5:5060", ViaSent: "10.0.0.5:5060", ViaEchoed: "203.0.113.5:5060", ALG: true, Rewritten: true}}).r()
	plain := sip.details(probe.Details{SIP: &probe.SIPDetails{LocalAddr: "10.0.0.5:5060"}}).r()
	for _, tc := range []struct {
		c    probe.Result
		n    int
		want string
	}{{nat, 1, "SIP passes a NAT on the way to turn.example"}, {alg, 1, "A SIP ALG rewrites SIP on the way to turn.example"}, {plain, 0, ""}} {
		fs := Diagnose(Input{Checks: []probe.Result{tc.c}}, nil)
		if len(fs) != tc.n || (tc.n == 1 && (fs[0].Title != tc.want || fs[0].Severity != SeverityInfo || fs[0].Cause != cause.SIPRewrite)) {
			t.Errorf("%+v", fs)
		}
	}
}

// A TURN cause explains the ICE check that relied on that server: the
// ice-failed finding folds under it instead of standing beside it.
func TestTURNCausesFoldICEFailed(t *testing.T) {
	failedICE := check("ice", probe.KindICE).with(func(r *probe.Result) { r.Host = "xphone.example" }).failed(probe.ClassTimeout)
	cases := []struct {
		name   string
		server string // the one the ICE check used
		turn   probe.Result
		want   []Cause
	}{
		{"auth failure explains ICE through that server", "turn:turn.example:3478?transport=udp", turnUDP401, []Cause{cause.TURNAuthFailed}},
		{"dead server explains ICE through it", "turn:turn.example:3478?transport=udp", turnUDPRef, []Cause{cause.TURNUnreachable}},
		{"dead relay explains ICE through it", "turn:turn.example:3478?transport=tcp", turnRelaySilent, []Cause{cause.TURNRelayFailed}},
		{"ICE through another server is not explained", "turn:other.example:3478?transport=udp", turnUDP401, []Cause{cause.TURNAuthFailed, cause.ICEFailed}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ice := failedICE.ice("two-ended", probe.ICEDetails{State: "failed", Servers: []string{tt.server}}).r()
			fs := Diagnose(Input{Checks: []probe.Result{tlsOK, tt.turn, ice}}, nil)
			if got := causes(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("causes %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRuleUDPPortRangeBlocked(t *testing.T) {
	open := run(30000, 30999, probe.PortOpen, "")
	cases := []struct {
		name      string
		checks    []probe.Result
		want      []Cause
		sev       Severity
		blocked   string // facts["blocked"] of the headline
		direction string
		detail    string
	}{
		{"upper part dropped on the way in", []probe.Result{tlsOK, check("media", probe.KindUDPRange).udp().atTURN().runs(open, run(31000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r()},
			[]Cause{cause.UDPPortRangeBlocked}, SeverityCritical, "31000-33000", "inbound", "never arrived"},
		{"answers lost on the way back", []probe.Result{tlsOK, check("media", probe.KindUDPRange).udp().atTURN().runs(open, run(31000, 33000, probe.PortFiltered, probe.DirReturn)).receipts().r()},
			[]Cause{cause.UDPPortRangeBlocked}, SeverityCritical, "31000-33000", "return", "answers were lost"},
		{"two holes, both directions", []probe.Result{tlsOK, check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 30099, probe.PortFiltered, probe.DirInbound), run(30100, 32999, probe.PortOpen, ""), run(33000, 33000, probe.PortFiltered, probe.DirReturn)).receipts().r()},
			[]Cause{cause.UDPPortRangeBlocked}, SeverityCritical, "30000-30099,33000", "inbound,return", "Some never arrived"},
		{"a firewall rejects part of the range", []probe.Result{tlsOK, check("media", probe.KindUDPRange).udp().atTURN().runs(open, run(31000, 33000, probe.PortProhibited, "")).r()},
			[]Cause{cause.UDPPortRangeBlocked}, SeverityCritical, "31000-33000", "", "direction is unknown"},
		{"whole range blocked while STUN passes", []probe.Result{tlsOK, stunOK, check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r()},
			[]Cause{cause.UDPPortRangeBlocked}, SeverityCritical, "30000-33000", "inbound", "the whole range"},
		{"optional range: a warning", []probe.Result{tlsOK, check("media", probe.KindUDPRange).udp().atTURN().optional().runs(open, run(31000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r()},
			[]Cause{cause.UDPPortRangeBlocked}, SeverityWarning, "31000-33000", "inbound", ""},
		{"nothing UDP passes: udp-blocked heads and folds the range", []probe.Result{tlsOK, stunSilent, check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 33000, probe.PortFiltered, probe.DirInbound)).receipts().r()},
			[]Cause{cause.UDPBlocked}, SeverityCritical, "", "", ""},
		{"closed ports without receipts are reached, not blocked", []probe.Result{tlsOK,
			check("media", probe.KindUDPRange).udp().atTURN().runs(open, run(31000, 33000, probe.PortClosed, "")).status(probe.StatusPass, "").r()},
			nil, "", "", "", ""},
		{"inconclusive sweep is no finding", []probe.Result{tlsOK, check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 33000, probe.PortFiltered, "")).warned("").
			sweep(func(d *probe.UDPRangeDetails) { d.Inconclusive, d.Responder = true, "none" }).r()},
			nil, "", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := Diagnose(Input{Checks: tc.checks}, nil)
			if got := causes(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("causes %v, want %v; findings %+v", got, tc.want, fs)
			}
			if len(fs) == 0 {
				return
			}
			f := fs[0]
			if f.Severity != tc.sev {
				t.Errorf("severity %s, want %s", f.Severity, tc.sev)
			}
			if f.Cause == cause.UDPPortRangeBlocked {
				if f.Facts["blocked"] != tc.blocked || f.Facts["direction"] != tc.direction {
					t.Errorf("facts %v, want blocked %q direction %q", f.Facts, tc.blocked, tc.direction)
				}
				if !strings.Contains(f.Title+" "+f.Detail, tc.detail) {
					t.Errorf("title/detail %q / %q lacks %q", f.Title, f.Detail, tc.detail)
				}
			} else if !slices.Contains(f.Explains, cause.UDPPortRangeBlocked) {
				t.Errorf("%s does not fold the range finding: explains %v", f.Cause, f.Explains)
			}
		})
	}
}

// A sweep whose responder refused the token got silence that proves
// nothing: it must not become a UDP block.
func TestSweepTokenRefusedIsNoBlock(t *testing.T) {
	c := check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 33000, probe.PortFiltered, "")).failed(probe.ClassAuth).
		sweep(func(d *probe.UDPRangeDetails) { d.TokenRefused = true }).r()
	fs := Diagnose(Input{Checks: []probe.Result{tlsOK, c}}, nil)
	for _, f := range fs {
		if f.Cause == cause.UDPBlocked || f.Cause == cause.UDPPortRangeBlocked || f.Cause == cause.VPNNoUDP {
			t.Errorf("token refusal diagnosed as %s", f.Cause)
		}
	}
	if len(fs) != 1 || fs[0].Cause != cause.CheckFailed {
		t.Errorf("findings %v, want the safety net check-failed naming the check", causes(fs))
	}
}

// UDP blocked, TURN over TCP failed its own relay proof, but ICE connected
// through a relay over TCP: the headline must still say media runs over TCP.
func TestUDPBlockedICEOverTCPRelay(t *testing.T) {
	ice := check("ice", probe.KindICE).at("turn.example", "198.51.100.7").connectedVia("tcp").r()
	fs := Diagnose(Input{Checks: []probe.Result{tlsOK, stunSilent, turnUDPSil, ice, pbxSigOK, pbxRangeSilent}}, nil)
	if len(fs) == 0 || fs[0].Cause != cause.UDPBlocked {
		t.Fatalf("causes %v, want udp-blocked first", causes(fs))
	}
	if fs[0].Facts["media_over"] != "tcp-relay" || fs[0].Facts["ice_path"] != "ice" || !strings.Contains(fs[0].Detail, "media relays over TCP") {
		t.Errorf("facts %v detail %q", fs[0].Facts, fs[0].Detail)
	}
	if slices.Contains(causes(fs), cause.RelayOnly) {
		t.Errorf("relay-only not folded: %v", causes(fs))
	}
}

// The site firewall drops the TURN server entirely, everything else works:
// one finding, turn-unreachable, with host-unreachable and tcp-blocked of
// that address folded in.
func TestTURNOnlyHostUnreachable(t *testing.T) {
	media := check("media", probe.KindUDPRange).udp().atTURN().runs(run(30000, 33000, probe.PortOpen, "")).receipts().r()
	media.Address, media.Host = "203.0.113.10", "pbx.example"
	sig := check("signalling", probe.KindTCP).tcp().atTURN().r()
	sig.Address, sig.Host = "203.0.113.10", "pbx.example"
	turnTLS := check("turn-tls", probe.KindTURN).over(probe.TransportTLS).atTURN().failed(probe.ClassTimeout).creds(probe.CredLongTerm, 0).r()
	fs := Diagnose(Input{Checks: []probe.Result{sig, media, stunSilent, turnUDPSil, turnTCPSil, turnTLS}}, nil)
	if got := causes(fs); !slices.Equal(got, []Cause{cause.TURNUnreachable}) {
		t.Fatalf("causes %v, want [turn-unreachable]; findings %+v", got, fs)
	}
	if !slices.Contains(fs[0].Explains, cause.HostUnreachable) || len(fs[0].Evidence) != 4 {
		t.Errorf("explains %v evidence %v", fs[0].Explains, fs[0].Evidence)
	}
	// The same silence on a host that also serves TLS: the host is down,
	// not just its TURN server.
	fs = Diagnose(Input{Checks: []probe.Result{tlsDown, stunSilent, turnUDPSil, turnTCPSil}}, nil)
	if got := causes(fs); !slices.Equal(got, []Cause{cause.HostUnreachable, cause.TURNUnreachable}) {
		t.Errorf("causes %v", got)
	}
}

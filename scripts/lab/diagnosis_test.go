//go:build linux

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// These tests run the built ucprobe itself in the client namespace, once per
// lab scenario, the way a helpdesk or field tech would, and assert the
// diagnosis end to end: the verdict and exit code, the headline cause, the
// exact set of critical and warning causes (nothing missing, nothing
// spurious) and the key evidence of each fault. lab_test.go proves with plain
// tools that each fault is there; this file proves ucprobe names it.
//
// TURN credentials come from the scenario's scenario.env and reach ucprobe
// through UCPROBE_TURN_USER/UCPROBE_TURN_PASS in its environment, never on
// its command line.

// ucReport is the part of the ucprobe/report/v1 JSON report the scenarios assert.
type ucReport struct {
	Schema   string      `json:"schema"`
	Profile  string      `json:"profile"`
	Verdict  string      `json:"verdict"`
	Checks   []ucCheck   `json:"checks"`
	Findings []ucFinding `json:"findings"`
	Env      struct {
		VPN json.RawMessage `json:"vpn"`
		NAT *ucNAT          `json:"nat"`
	} `json:"environment"`
}

type ucNAT struct {
	Mapping   string `json:"mapping"`
	Filtering string `json:"filtering"`
}

type ucCandidate struct {
	Type    string `json:"type"`
	Address string `json:"address"`
	Port    int    `json:"port"`
}

type ucCheck struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	Host       string `json:"host"`
	Address    string `json:"address"`
	Transport  string `json:"transport"`
	Status     string `json:"status"`
	ErrorClass string `json:"error_class"`
	Error      string `json:"error"`
	Details    struct {
		Skipped  string `json:"skipped"`
		UDPRange *struct {
			Ranges    string `json:"ranges"`
			Responder string `json:"responder"`
			Open      int    `json:"open"`
			Filtered  int    `json:"filtered"`
			SubRanges []struct {
				Range struct {
					First int `json:"first"`
					Last  int `json:"last"`
				} `json:"range"`
				State     string `json:"state"`
				Direction string `json:"direction"`
			} `json:"sub_ranges"`
		} `json:"udp_range"`
		ICE *struct {
			Mode        string `json:"mode"`
			State       string `json:"state"`
			SelectedVia string `json:"selected_via"`
			Selected    *struct {
				Local  ucCandidate `json:"local"`
				Remote ucCandidate `json:"remote"`
				State  string      `json:"state"`
			} `json:"selected"`
			Media *struct {
				Sent     int     `json:"sent"`
				Received int     `json:"received"`
				LossPct  float64 `json:"loss_pct"`
			} `json:"media"`
		} `json:"ice"`
		TLS *struct {
			Issuer string `json:"issuer"`
		} `json:"tls"`
		STUN *struct {
			NAT *ucNAT `json:"nat"`
		} `json:"stun"`
	} `json:"details"`
}

type ucFinding struct {
	Cause    string         `json:"cause"`
	Severity string         `json:"severity"`
	Title    string         `json:"title"`
	Detail   string         `json:"detail"`
	Evidence []string       `json:"evidence"`
	Explains []string       `json:"explains"`
	Facts    map[string]any `json:"facts"`
}

func (r *ucReport) check(id string) *ucCheck {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

// finding is the first finding with cause.
func (r *ucReport) finding(cause string) *ucFinding {
	for i := range r.Findings {
		if r.Findings[i].Cause == cause {
			return &r.Findings[i]
		}
	}
	return nil
}

func (r *ucReport) causes(severity string) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == severity && !slices.Contains(out, f.Cause) {
			out = append(out, f.Cause)
		}
	}
	sort.Strings(out)
	return out
}

func (r *ucReport) headline() string {
	if len(r.Findings) == 0 {
		return "-"
	}
	return r.Findings[0].Cause
}

func (f *ucFinding) fact(k string) string {
	if f == nil || f.Facts == nil {
		return ""
	}
	switch v := f.Facts[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func (f *ucFinding) explains() []string {
	if f == nil {
		return nil
	}
	return f.Explains
}

// text is everything a person reads in the finding (for "names X" assertions).
func (f *ucFinding) text() string {
	if f == nil {
		return ""
	}
	b, _ := json.Marshal(f.Facts)
	return f.Title + "\n" + f.Detail + "\n" + string(b)
}

// A diagCase is one ucprobe run against one scenario.
type diagCase struct {
	name     string   // subtest name
	scenario string   // lab scenario
	args     []string // ucprobe run arguments (before --format json)
	verdict  string
	headline string   // findings[0].cause; "-" for no finding
	critical []string // exactly these critical causes
	warning  []string // exactly these warning causes
	info     []string // at least these info causes (others are allowed)
	check    func(t *testing.T, r *ucReport)
}

// Flags shared by the cases. Each run gets a tight --timeout; --media keeps
// the measurement on the ICE path short.
func xphoneArgs(timeout string, extra ...string) []string {
	return append([]string{"--profile", "xphone", "--server", NameServer, "--responder", NameServer, "--token-file", TokenFile(),
		"--set", "turn=" + NameTURN, "--ca-file", CAFile(), "--timeout", timeout, "--media", "1s"}, extra...)
}

func estosArgs(timeout string, extra ...string) []string {
	return append([]string{"--profile", "estos-procall", "--set", "ucconnect=" + NameWSS,
		"--ca-file", CAFile(), "--timeout", timeout, "--media", "1s"}, extra...)
}

func diagCases() []diagCase {
	return []diagCase{
		{
			name: "clean/xphone", scenario: "clean", args: xphoneArgs("9s"),
			verdict: "ok", headline: "-",
			check: func(t *testing.T, r *ucReport) {
				wantStatus(t, r, "signalling", "pass")
				wantStatus(t, r, "media-range", "pass")
				wantStatus(t, r, "ice", "pass")
				wantStatus(t, r, "stun", "pass")
				wantStatus(t, r, "turn-udp", "pass")
				wantStatus(t, r, "turn-tcp", "pass")
			},
		},
		{
			name: "clean/estos-procall", scenario: "clean", args: estosArgs("9s"),
			verdict: "ok", headline: "-",
			check: func(t *testing.T, r *ucReport) {
				for _, id := range []string{"ucconnect-tls", "ucconnect-ws", "stun", "turn-udp", "turn-tcp", "ice-relay"} {
					wantStatus(t, r, id, "pass")
				}
			},
		},
		{
			// TURN over TCP is the way out: ICE connects through the TCP relay,
			// which udp-blocked folds (not a separate relay-only).
			name: "udp-drop", scenario: "udp-drop", args: xphoneArgs("10s"),
			verdict: "failed", headline: "udp-blocked",
			critical: []string{"udp-blocked"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("udp-blocked")
				wantEvidence(t, f, "stun", "media-range", "ice")
				wantFail(t, r, "stun", "timeout")
				wantICEVia(t, r, "ice", "relay/tcp")
				if got := f.fact("media_over"); got != "tcp-relay" {
					t.Errorf("udp-blocked fact media_over = %q, want tcp-relay (media relays over TURN/TCP)", got)
				}
				wantSubRange(t, r, "media-range", 30000, 33000, "filtered", "inbound")
			},
		},
		{
			name: "udp-prohibited", scenario: "udp-prohibited", args: xphoneArgs("10s"),
			verdict: "failed", headline: "udp-blocked",
			critical: []string{"udp-blocked"},
			check: func(t *testing.T, r *ucReport) {
				wantEvidence(t, r.finding("udp-blocked"), "stun", "turn-udp", "media-range", "ice")
				wantFail(t, r, "stun", "prohibited")
				wantFail(t, r, "turn-udp", "prohibited")
				wantICEVia(t, r, "ice", "relay/tcp")
			},
		},
		{
			name: "range-partial", scenario: "range-partial", args: xphoneArgs("9s"),
			verdict: "failed", headline: "udp-port-range-blocked",
			critical: []string{"udp-port-range-blocked"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("udp-port-range-blocked")
				wantEvidence(t, f, "media-range")
				if f != nil && !strings.Contains(f.text(), "31000-33000") {
					t.Errorf("udp-port-range-blocked does not name the blocked sub-range 31000-33000:\n%s", f.text())
				}
				if f != nil && strings.Contains(f.text(), "30000-33000 blocked") {
					t.Errorf("udp-port-range-blocked calls the whole range blocked:\n%s", f.text())
				}
				wantSubRange(t, r, "media-range", 31000, 33000, "filtered", "inbound")
				wantSubRange(t, r, "media-range", 30000, 30999, "open", "")
				wantStatus(t, r, "stun", "pass")
				wantStatus(t, r, "turn-udp", "pass")
			},
		},
		{
			name: "tcp-filtered", scenario: "tcp-filtered", args: xphoneArgs("9s"),
			verdict: "failed", headline: "tcp-blocked",
			critical: []string{"tcp-blocked"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("tcp-blocked")
				wantEvidence(t, f, "signalling")
				wantFail(t, r, "signalling", "timeout")
				wantFact(t, f, "address", ServerIP)
				wantFact(t, f, "ports", "2230")
			},
		},
		{
			name: "tcp-closed", scenario: "tcp-closed", args: xphoneArgs("9s"),
			verdict: "failed", headline: "port-closed",
			critical: []string{"port-closed"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("port-closed")
				wantEvidence(t, f, "signalling")
				wantFail(t, r, "signalling", "refused")
				wantFact(t, f, "address", ServerIP)
			},
		},
		{
			// The tunnel carries the TCP (signalling, TURN over TCP) but not the UDP.
			name: "vpn-no-udp", scenario: "vpn-no-udp", args: xphoneArgs("10s"),
			verdict: "failed", headline: "vpn-no-udp",
			critical: []string{"vpn-no-udp"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("vpn-no-udp")
				wantFact(t, f, "interface", "tun0")
				wantEvidence(t, f, "stun", "media-range", "signalling")
				wantStatus(t, r, "signalling", "pass")
				wantFail(t, r, "stun", "timeout")
				wantICEVia(t, r, "ice", "relay/tcp")
			},
		},
		{
			// The VPN client is stopped: the internal server's address still
			// routes into tun0, which has no carrier.
			name: "vpn-down", scenario: "vpn-down",
			args: []string{"--profile", "xphone", "--server", NameServerVPN, "--responder", NameServerVPN, "--token-file", TokenFile(),
				"--ca-file", CAFile(), "--timeout", "8s", "--media", "1s"},
			verdict: "failed", headline: "vpn-required",
			critical: []string{"vpn-required"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("vpn-required")
				wantEvidence(t, f, "signalling")
				wantFact(t, f, "addresses", ServerVPNIP)
				if f != nil && !strings.Contains(f.Detail, "tun0") {
					t.Errorf("vpn-required does not name the VPN interface tun0: %s", f.Detail)
				}
			},
		},
		{
			name: "multi-homed", scenario: "multi-homed", args: xphoneArgs("9s"),
			verdict: "failed", headline: "multi-homed-server",
			critical: []string{"multi-homed-server"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("multi-homed-server")
				wantFact(t, f, "unreachable", ServerDMZIP)
				wantFact(t, f, "reachable", ServerIP)
				wantEvidence(t, f, "signalling@"+ServerDMZIP, "media-range@"+ServerDMZIP)
				wantFail(t, r, "signalling@"+ServerDMZIP, "unreachable")
				wantStatus(t, r, "signalling@"+ServerIP, "pass")
				wantStatus(t, r, "media-range@"+ServerIP, "pass")
			},
		},
		{
			// A random source port per destination: coturn's two addresses see
			// different mappings (symmetric-nat: direct media between two such
			// clients needs TURN). The responder has a public address, so the
			// two-ended ICE check still connects directly (peer-reflexive on
			// its side): no relay-only, and the verdict stays ok.
			// A warning even though TURN works (issue 16: TURN is required).
			name: "symmetric-nat", scenario: "symmetric-nat", args: xphoneArgs("9s"),
			verdict: "degraded", headline: "symmetric-nat",
			warning: []string{"symmetric-nat"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("symmetric-nat")
				wantEvidence(t, f, "stun")
				if f != nil && !strings.Contains(f.fact("mapping"), "dependent") {
					t.Errorf("symmetric-nat mapping fact %q, want address(-and-port)-dependent", f.fact("mapping"))
				}
				wantICEVia(t, r, "ice", "host")
				wantStatus(t, r, "turn-udp", "pass")
			},
		},
		{
			// The symmetric NAT of symmetric-nat, and the server site's
			// firewall opens only the XPhone ports (seed 003): the
			// responder's ICE agent gathers on ephemeral ports outside the
			// media range, so its host candidate gets nothing unsolicited,
			// and the client's random port per destination defeats the
			// peer-reflexive way in. Only a relay pair connects: relay-only
			// (a warning) heads the report. symmetric-nat stays info (TURN
			// works from here) and explains why the relay is needed: it is
			// either its own info finding or folded under relay-only.
			name: "symmetric-nat-site-fw", scenario: "symmetric-nat-site-fw", args: xphoneArgs("9s"),
			verdict: "degraded", headline: "relay-only",
			warning: []string{"relay-only"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("relay-only")
				wantEvidence(t, f, "ice")
				wantStatus(t, r, "ice", "pass")
				if c := r.check("ice"); c != nil && c.Details.ICE != nil {
					d := c.Details.ICE
					switch s := d.Selected; {
					case d.Mode != "two-ended":
						t.Errorf("ICE mode %q, want two-ended (against the responder)", d.Mode)
					case s == nil:
						t.Errorf("ICE has no selected pair (state %s, via %q)", d.State, d.SelectedVia)
					case s.Local.Type != "relay" && s.Remote.Type != "relay":
						t.Errorf("ICE selected %s %s:%d -> %s %s:%d via %q, want a relay candidate on one side",
							s.Local.Type, s.Local.Address, s.Local.Port, s.Remote.Type, s.Remote.Address, s.Remote.Port, d.SelectedVia)
					case !strings.HasPrefix(d.SelectedVia, "relay/"):
						t.Errorf("ICE selected_via %q, want relay/...", d.SelectedVia)
					}
				}
				if f != nil && !strings.HasPrefix(f.fact("selected_via"), "relay/") {
					t.Errorf("relay-only fact selected_via %q, want relay/...", f.fact("selected_via"))
				}
				if n, _ := strconv.Atoi(f.fact("direct_failed")); f != nil && n == 0 {
					t.Errorf("relay-only names no failed direct pair (direct_failed %q)", f.fact("direct_failed"))
				}
				// The symmetric NAT is named: in the environment, on the
				// STUN check, and as a finding (info, or folded under relay-only).
				if nat := r.Env.NAT; nat == nil || !strings.HasPrefix(nat.Mapping, "address") {
					t.Errorf("environment.nat %+v, want address(-and-port)-dependent mapping", nat)
				}
				if c := r.check("stun"); c == nil || c.Details.STUN == nil || c.Details.STUN.NAT == nil ||
					!strings.HasPrefix(c.Details.STUN.NAT.Mapping, "address") {
					t.Errorf("stun check has no address(-and-port)-dependent NAT mapping")
				}
				sym := r.finding("symmetric-nat")
				switch {
				case sym != nil && sym.Severity == "info":
					wantEvidence(t, sym, "stun")
					if !strings.Contains(sym.fact("mapping"), "dependent") {
						t.Errorf("symmetric-nat mapping fact %q, want address(-and-port)-dependent", sym.fact("mapping"))
					}
				case sym == nil && f != nil && slices.Contains(f.Explains, "symmetric-nat"):
				default:
					t.Errorf("symmetric NAT not named: want an info symmetric-nat or relay-only explaining it (findings %v, relay-only explains %v)",
						r.causes("info"), f.explains())
				}
				wantStatus(t, r, "media-range", "pass")
				wantStatus(t, r, "signalling", "pass")
				wantStatus(t, r, "turn-udp", "pass")
			},
		},
		{
			name: "turn-bad-creds", scenario: "turn-bad-creds", args: xphoneArgs("9s"),
			verdict: "failed", headline: "turn-auth-failed",
			critical: []string{"turn-auth-failed"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("turn-auth-failed")
				wantEvidence(t, f, "turn-udp")
				wantFact(t, f, "code", "401")
				wantFail(t, r, "turn-udp", "auth")
				wantStatus(t, r, "stun", "pass")
			},
		},
		{
			// The router has no route for the server's dmz0 network: ICMP net
			// unreachable from 10.10.0.1, right away.
			name: "clean/no-route", scenario: "clean",
			args:    []string{"--profile", "generic", "--server", ServerDMZIP, "--set", "tcp=2230", "--timeout", "5s"},
			verdict: "failed", headline: "no-route",
			critical: []string{"no-route"},
			check: func(t *testing.T, r *ucReport) {
				wantFact(t, r.finding("no-route"), "address", ServerDMZIP)
				wantFail(t, r, "tcp", "unreachable")
			},
		},
		{
			// The site firewall drops everything to the TURN server; UDP to
			// the responder passes, so this is the TURN server, not UDP.
			name: "turn-blocked", scenario: "turn-blocked", args: xphoneArgs("10s"),
			verdict: "failed", headline: "turn-unreachable",
			critical: []string{"turn-unreachable"},
			check: func(t *testing.T, r *ucReport) {
				wantEvidence(t, r.finding("turn-unreachable"), "stun", "turn-udp", "turn-tcp")
				wantFail(t, r, "turn-udp", "timeout")
				wantFail(t, r, "turn-tcp", "timeout")
				wantStatus(t, r, "media-range", "pass")
				wantStatus(t, r, "ice", "pass")
			},
		},
		{
			name: "dns-broken", scenario: "dns-broken", args: xphoneArgs("9s"),
			verdict: "failed", headline: "dns-failure",
			critical: []string{"dns-failure"},
			check: func(t *testing.T, r *ucReport) {
				wantEvidence(t, r.finding("dns-failure"), "dns:"+NameServer)
				wantFail(t, r, "dns:"+NameServer, "dns")
				wantFail(t, r, "dns:"+NameTURN, "dns")
			},
		},
		{
			// 5 % loss each way: about 10 % of the echoed media is lost; the
			// sweep, STUN and TURN retransmit through it.
			name: "lossy-udp", scenario: "lossy-udp",
			args:    xphoneArgs("8s", "--media", "2s"),
			verdict: "degraded", headline: "packet-loss",
			warning: []string{"packet-loss"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("packet-loss")
				wantEvidence(t, f, "ice")
				if f != nil {
					m, err := strconv.ParseFloat(f.fact("measured"), 64)
					if err != nil || m < 3 || m > 25 {
						t.Errorf("packet-loss measured %q %%, want 3-25 %% (5 %% dropped each way)", f.fact("measured"))
					}
					wantFact(t, f, "limit", "1")
				}
				wantStatus(t, r, "media-range", "pass")
				wantStatus(t, r, "signalling", "pass")
			},
		},
		{
			// An inspecting proxy: the client trusts the lab CA, the proxy's
			// certificate comes from another one.
			name: "tls-untrusted", scenario: "tls-untrusted", args: estosArgs("9s"),
			verdict: "failed", headline: "tls-untrusted",
			critical: []string{"tls-untrusted"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("tls-untrusted")
				wantEvidence(t, f, "ucconnect-tls")
				wantFail(t, r, "ucconnect-tls", "tls")
				if f != nil && !strings.Contains(f.fact("issuer"), "Inspecting Proxy CA") {
					t.Errorf("tls-untrusted issuer %q, want the proxy's CA", f.fact("issuer"))
				}
				wantStatus(t, r, "turn-udp", "pass")
			},
		},
		{
			name: "ws-refused", scenario: "ws-refused", args: estosArgs("9s"),
			verdict: "failed", headline: "websocket-blocked",
			critical: []string{"websocket-blocked"},
			check: func(t *testing.T, r *ucReport) {
				f := r.finding("websocket-blocked")
				wantEvidence(t, f, "ucconnect-ws")
				wantFact(t, f, "status", "403")
				wantStatus(t, r, "ucconnect-tls", "pass")
			},
		},
	}
}

func wantStatus(t *testing.T, r *ucReport, id, status string) {
	t.Helper()
	c := r.check(id)
	switch {
	case c == nil:
		t.Errorf("no check %s (checks: %s)", id, checkIDs(r))
	case c.Status != status:
		t.Errorf("check %s: %s %s %s (%s), want %s", id, c.Status, c.ErrorClass, c.Error, c.Details.Skipped, status)
	}
}

func wantFail(t *testing.T, r *ucReport, id, class string) {
	t.Helper()
	c := r.check(id)
	switch {
	case c == nil:
		t.Errorf("no check %s (checks: %s)", id, checkIDs(r))
	case c.Status != "fail" || c.ErrorClass != class:
		t.Errorf("check %s: %s %q (%s), want fail %s", id, c.Status, c.ErrorClass, c.Error, class)
	}
}

func checkIDs(r *ucReport) string {
	var ids []string
	for _, c := range r.Checks {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, " ")
}

// wantEvidence: the finding exists and cites these check ids (among others).
func wantEvidence(t *testing.T, f *ucFinding, ids ...string) {
	t.Helper()
	if f == nil {
		return // the cause assertions already report a missing finding
	}
	for _, id := range ids {
		if !slices.Contains(f.Evidence, id) {
			t.Errorf("%s: evidence %v lacks %s", f.Cause, f.Evidence, id)
		}
	}
}

// wantFact: the finding's fact k contains want (lists are comma-separated).
func wantFact(t *testing.T, f *ucFinding, k, want string) {
	t.Helper()
	if f == nil {
		return
	}
	got := f.fact(k)
	if got != want && !slices.Contains(strings.Split(got, ","), want) {
		t.Errorf("%s: fact %s = %q, want %q (facts %v)", f.Cause, k, got, want, f.Facts)
	}
}

func wantICEVia(t *testing.T, r *ucReport, id, via string) {
	t.Helper()
	c := r.check(id)
	if c == nil {
		t.Errorf("no check %s", id)
		return
	}
	if c.Details.ICE == nil || c.Details.ICE.SelectedVia != via {
		got := "no ICE details"
		if c.Details.ICE != nil {
			got = fmt.Sprintf("state %s, selected %q", c.Details.ICE.State, c.Details.ICE.SelectedVia)
		}
		t.Errorf("ICE %s: %s (%s %s %s), want connected via %s", id, got, c.Status, c.ErrorClass, c.Error, via)
	}
}

// wantSubRange: the sweep reports first-last as one sub-range in state
// (and direction, when given).
func wantSubRange(t *testing.T, r *ucReport, id string, first, last int, state, direction string) {
	t.Helper()
	c := r.check(id)
	if c == nil {
		t.Errorf("no check %s", id)
		return
	}
	u := c.Details.UDPRange
	if u == nil {
		t.Errorf("sweep %s: no udp_range details (%s %s %s%s), want %d-%d %s %s", id, c.Status, c.ErrorClass, c.Error,
			c.Details.Skipped, first, last, state, direction)
		return
	}
	var got []string
	for _, s := range u.SubRanges {
		if s.Range.First == first && s.Range.Last == last && s.State == state && (direction == "" || s.Direction == direction) {
			return
		}
		got = append(got, fmt.Sprintf("%d-%d %s %s", s.Range.First, s.Range.Last, s.State, s.Direction))
	}
	t.Errorf("sweep %s: sub-ranges %v, want %d-%d %s %s", id, got, first, last, state, direction)
}

// runUcprobe runs `ucprobe run ARGS --format json` in the client namespace
// with the scenario's TURN credentials in the environment, and decodes the
// report. It fails t on anything that is not a judged report.
func runUcprobe(t *testing.T, args []string) (*ucReport, int, time.Duration) {
	t.Helper()
	user, pass := TurnCreds(t)
	t.Setenv("UCPROBE_TURN_USER", user)
	t.Setenv("UCPROBE_TURN_PASS", pass)
	for _, k := range []string{"UCPROBE_TURN_SECRET", "UCPROBE_TOKEN", "NO_COLOR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// ucprobe must keep its --timeout: 3 s more for start, report and exit,
	// then the run is killed and t fails.
	limit := 10 * time.Second
	for i, a := range args {
		if a == "--timeout" && i+1 < len(args) {
			if d, err := time.ParseDuration(args[i+1]); err == nil {
				limit = d
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit+3*time.Second)
	defer cancel()
	start := time.Now()
	stdout, stderr, code := ExecContext(t, ctx, "client",
		append(append([]string{UcprobeBin(t), "run"}, args...), "--format", "json")...)
	took := time.Since(start) // (past limit+3 s, ExecContext has failed t: "timed out")
	for _, secret := range []string{pass, Env(t, "turn.env")["UCPROBE_TURN_PASS"]} {
		if secret != "" && (strings.Contains(stdout, secret) || strings.Contains(stderr, secret)) {
			t.Errorf("the TURN password appears in ucprobe's output")
		}
	}
	var r ucReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("ucprobe exit %d, output is not a JSON report: %v\n%s\n%s", code, err, stdout, stderr)
	}
	if r.Schema != "ucprobe/report/v1" {
		t.Errorf("schema %q, want ucprobe/report/v1", r.Schema)
	}
	wantCode := map[string]int{"ok": 0, "degraded": 1, "failed": 2}[r.Verdict]
	if _, known := map[string]bool{"ok": true, "degraded": true, "failed": true}[r.Verdict]; !known || code != wantCode {
		t.Errorf("verdict %q with exit code %d (want 0 ok, 1 degraded, 2 failed)", r.Verdict, code)
	}
	// A run whose checks were all cut short judged nothing: it must not
	// pass for "ok".
	canceled, ran := 0, 0
	for _, c := range r.Checks {
		if c.Kind == "dns" || (c.Status == "skip" && c.ErrorClass != "canceled") {
			continue
		}
		ran++
		if c.ErrorClass == "canceled" {
			canceled++
		}
	}
	if ran > 0 && canceled == ran && r.Verdict == "ok" {
		t.Errorf("verdict ok although all %d checks were canceled by the deadline", ran)
	}
	for _, f := range r.Findings {
		for _, id := range f.Evidence {
			if r.check(id) == nil {
				t.Errorf("finding %s cites evidence %q, which is no check of the report", f.Cause, id)
			}
		}
	}
	return &r, code, took
}

func summary(r *ucReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict %s\n", r.Verdict)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %-8s %-24s evidence %v explains %v: %s\n", f.Severity, f.Cause, f.Evidence, f.Explains, f.Title)
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "    %-4s %-28s %s %s %s\n", c.Status, c.ID, c.ErrorClass, c.Error, c.Details.Skipped)
	}
	return b.String()
}

type diagRow struct {
	name, want, got string
	secs            float64
	ok              bool
}

// TestDiagnosis runs ucprobe once per case and prints a table of expected
// and diagnosed headline causes at the end.
func TestDiagnosis(t *testing.T) {
	Require(t)
	cases := diagCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.scenario] = true
	}
	for _, s := range Scenarios {
		if !covered[s] {
			t.Errorf("scenario %s has no ucprobe diagnosis case", s)
		}
	}
	var rows []diagRow
	for _, c := range cases {
		row := diagRow{name: c.name, want: c.headline, got: "(no report)"}
		start, ran := time.Now(), false
		ok := t.Run(c.name, func(t *testing.T) {
			ran = true
			Scenario(t, c.scenario)
			r, _, took := runUcprobe(t, c.args)
			row.secs, row.got = took.Seconds(), r.headline()
			t.Logf("ucprobe run %s\n%s", strings.Join(c.args, " "), summary(r))
			if r.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s", r.Verdict, c.verdict)
			}
			if got := r.headline(); got != c.headline {
				t.Errorf("headline %s, want %s", got, c.headline)
			}
			for sev, want := range map[string][]string{"critical": c.critical, "warning": c.warning} {
				want = slices.Sorted(slices.Values(want))
				if got := r.causes(sev); !slices.Equal(got, want) {
					t.Errorf("%s causes %v, want exactly %v", sev, got, want)
				}
			}
			for _, cause := range c.info {
				if f := r.finding(cause); f == nil || f.Severity != "info" {
					t.Errorf("no info finding %s (info causes %v)", cause, r.causes("info"))
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
		if !ran {
			continue // -run left it out
		}
		row.ok = ok
		if row.secs == 0 { // no report: the run failed or was killed; the subtest's time
			row.secs = time.Since(start).Seconds()
		}
		rows = append(rows, row)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\texpected headline\tgot\tseconds\tresult")
	var total float64
	for _, r := range rows {
		res := "ok"
		if !r.ok {
			res = "FAIL"
		}
		total += r.secs
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", r.name, r.want, r.got, r.secs, res)
	}
	fmt.Fprintf(tw, "total\t\t\t%.1f\t\n", total)
	tw.Flush()
	t.Logf("ucprobe diagnosis per lab scenario (responder: %s)\n%s", Responder(t), b.String())
}

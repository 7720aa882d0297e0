package ice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	pice "github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"

	"github.com/ucprobe/ucprobe/probe"
)

// Timing bounds every ICE phase so that a failing ICE concludes in a few
// seconds (pion's defaults take about 30 s to reach Failed).
type Timing struct {
	// CheckInterval is how often pairs are checked while connecting.
	CheckInterval time.Duration
	// MaxBindingRequests per pair before it fails: with CheckInterval this
	// bounds how long one pair waits for an answer.
	MaxBindingRequests uint16
	// Disconnected + Failed is how long checking may last before Failed.
	Disconnected, Failed time.Duration
	// Keepalive while connected (below Disconnected, so a quiet selected
	// pair does not flap).
	Keepalive time.Duration
	// STUNGather bounds each server-reflexive request.
	STUNGather time.Duration
	// Gather bounds the whole gathering phase; candidates that come later
	// still trickle in where the mode allows.
	Gather time.Duration
	// RelayWait delays nominating a relay pair so a direct pair that works
	// wins (pion's default is 2 s).
	RelayWait time.Duration
}

// DefaultTiming: checks every 50 ms, a pair fails after 20 unanswered
// requests (1 s), ICE fails 3 s after checking began, gathering at most
// 2 s per side.
var DefaultTiming = Timing{
	CheckInterval: 50 * time.Millisecond, MaxBindingRequests: 20,
	Disconnected: 1500 * time.Millisecond, Failed: 1500 * time.Millisecond, Keepalive: 500 * time.Millisecond,
	STUNGather: 1500 * time.Millisecond, Gather: 2 * time.Second, RelayWait: 300 * time.Millisecond,
}

// Sentinel errors.
var (
	// ErrNoTURNCredentials: a relay mode needs TURN credentials.
	ErrNoTURNCredentials = errors.New("no TURN credentials")
	// ErrICEFailed: no candidate pair succeeded.
	ErrICEFailed = errors.New("ICE failed")
	// ErrNoCandidates: gathering produced no candidate to check.
	ErrNoCandidates = errors.New("no candidates")
	// ErrNotResponder: the far end does not speak ucprobe's signalling.
	ErrNotResponder = errors.New("not a ucprobe responder")
	// ErrTokenRejected: the responder refused the token.
	ErrTokenRejected = errors.New("responder rejected the token")
	// ErrICEOff: the responder runs without a token, so its ICE peer is off.
	ErrICEOff = errors.New("the responder's two-ended ICE check is off (it runs without a token)")
	// ErrBadMode: the spec names an unknown ICE mode.
	ErrBadMode = errors.New("unknown ICE mode")
)

// Modes (probe's typed constants, named here for this package's callers).
const (
	ModeOneEnded   = probe.ICEOneEnded
	ModeRelayRelay = probe.ICERelayRelay
	ModeTwoEnded   = probe.ICETwoEnded
)

// server is one STUN/TURN URL with its credentials kept apart from
// anything printable.
type server struct {
	uri *stun.URI
}

// display is the URL without credentials.
func (s server) display() string { return s.uri.String() }

// whyNone adds to a refusal for want of TURN credentials why the run's
// resolved to none when that is known (probe.ErrTURNNoPassword: a user
// name without its password), so the refusal names what to fix.
func whyNone(err, why error) error {
	if why == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", err, why)
}

// serverURLs are the STUN and TURN URLs for host:port: STUN over UDP for
// the server-reflexive address, TURN over the transports asked for (all
// of UDP and TCP when none is) when credentials exist.
func serverURLs(host string, port int, tr probe.Transport, user, pass string) ([]server, error) {
	if port == 0 {
		port = 3478
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("port %d out of range", port)
	}
	var out []server
	if tr == "" || tr == probe.TransportUDP {
		out = append(out, server{&stun.URI{Scheme: stun.SchemeTypeSTUN, Host: host, Port: port, Proto: stun.ProtoTypeUDP}})
	}
	if user == "" {
		return out, nil
	}
	add := func(scheme stun.SchemeType, proto stun.ProtoType) {
		out = append(out, server{&stun.URI{Scheme: scheme, Host: host, Port: port, Proto: proto, Username: user, Password: pass}})
	}
	switch tr {
	case "":
		add(stun.SchemeTypeTURN, stun.ProtoTypeUDP)
		add(stun.SchemeTypeTURN, stun.ProtoTypeTCP)
	case probe.TransportUDP:
		add(stun.SchemeTypeTURN, stun.ProtoTypeUDP)
	case probe.TransportTCP:
		add(stun.SchemeTypeTURN, stun.ProtoTypeTCP)
	case probe.TransportTLS:
		add(stun.SchemeTypeTURNS, stun.ProtoTypeTCP)
	default:
		return nil, fmt.Errorf("transport %q: use udp, tcp or tls", tr)
	}
	return out, nil
}

func hasTURN(ss []server) bool {
	return slices.ContainsFunc(ss, func(s server) bool { return isTURN(s.uri) })
}

// isTURN: a turn: or turns: URL (one that needs credentials).
func isTURN(u *stun.URI) bool {
	return u.Scheme == stun.SchemeTypeTURN || u.Scheme == stun.SchemeTypeTURNS
}

func displays(ss []server) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.display()
	}
	return out
}

// agentSetup is one agent's configuration.
type agentSetup struct {
	// ctx bounds the agent's dials and lookups (with timing.Gather); its
	// end, or the close function newAgent returns, ends them.
	ctx       context.Context
	servers   []server
	relayOnly bool
	timing    Timing
	net       transport.Net // nil: the OS
	// loopback includes loopback host candidates (the far end is on this
	// machine: tests, `ucprobe demo`).
	loopback bool
	// ipFilter restricts host candidates (tests: 127.0.0.0/8 only).
	ipFilter func(net.IP) bool
	log      *gatherLog
	// resolver looks up STUN/TURN server names (the run's, so tests'
	// fake DNS holds here too); nil: the system's.
	resolver probe.Resolver
	// cutAtDeadline: a check's agent; ctx's deadline cuts its TURN
	// transports (see boundedNet). The responder's sessions release their
	// allocations when they time out instead.
	cutAtDeadline bool
}

// newAgent returns the agent and the function that closes it: it ends
// the agent's dials first, so Close never waits for one.
func newAgent(s agentSetup) (*pice.Agent, func(), error) {
	urls := make([]*stun.URI, len(s.servers))
	for i, sv := range s.servers {
		urls[i] = sv.uri
	}
	t := s.timing
	opts := []pice.AgentOption{
		pice.WithUrls(urls),
		pice.WithNetworkTypes([]pice.NetworkType{pice.NetworkTypeUDP4, pice.NetworkTypeUDP6}),
		pice.WithMulticastDNSMode(pice.MulticastDNSModeDisabled),
		pice.WithCheckInterval(t.CheckInterval),
		pice.WithMaxBindingRequests(t.MaxBindingRequests),
		pice.WithDisconnectedTimeout(t.Disconnected),
		pice.WithFailedTimeout(t.Failed),
		pice.WithKeepaliveInterval(t.Keepalive),
		pice.WithSTUNGatherTimeout(t.STUNGather),
		pice.WithHostAcceptanceMinWait(0),
		pice.WithSrflxAcceptanceMinWait(min(t.RelayWait, 100*time.Millisecond)),
		pice.WithPrflxAcceptanceMinWait(min(t.RelayWait, 100*time.Millisecond)),
		pice.WithRelayAcceptanceMinWait(t.RelayWait),
	}
	if s.relayOnly {
		opts = append(opts, pice.WithCandidateTypes([]pice.CandidateType{pice.CandidateTypeRelay}))
	} else {
		opts = append(opts, pice.WithCandidateTypes([]pice.CandidateType{
			pice.CandidateTypeHost, pice.CandidateTypeServerReflexive, pice.CandidateTypeRelay}))
	}
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	var bn *boundedNet
	if s.net != nil {
		opts = append(opts, pice.WithNet(s.net))
	} else {
		n, err := newBoundedNet(ctx, max(t.Gather, time.Second), s.resolver, s.cutAtDeadline, s.log.seal)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		bn = n
		opts = append(opts, pice.WithNet(n))
	}
	if s.loopback {
		opts = append(opts, pice.WithIncludeLoopback())
	}
	if s.ipFilter != nil {
		opts = append(opts, pice.WithIPFilter(s.ipFilter))
	}
	if s.log != nil {
		opts = append(opts, pice.WithLoggerFactory(s.log))
	}
	a, err := pice.NewAgentWithOptions(opts...)
	if err != nil {
		cancel()
		if bn != nil {
			bn.endWatch()
		}
		return nil, nil, err
	}
	return a, func() {
		cancel()
		if bn != nil {
			bn.endWatch()
		}
		_ = a.Close()
	}, nil
}

func isLoopbackHost(host string) bool {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err == nil {
		return a.IsLoopback()
	}
	return host == "localhost"
}

// gatherLog is a pion logger factory that keeps the agents' warnings and
// errors (the only place ICE says why TURN gave no relay candidate) as
// evidence, with secrets blanked, and passes debug lines to slog when the
// run logs.
type gatherLog struct {
	mu      sync.Mutex
	lines   []string
	secrets []string
	sealed  bool
}

const maxGatherErrors = 8

// seal ends the evidence: what the agent logs once the deadline cut it
// (its TURN transports closed under it) is not about the path. Safe on a
// nil log.
func (g *gatherLog) seal() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sealed = true
}

func (g *gatherLog) add(msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sealed {
		return
	}
	for _, s := range g.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	if len(g.lines) >= maxGatherErrors || slices.Contains(g.lines, msg) {
		return
	}
	g.lines = append(g.lines, msg)
}

func (g *gatherLog) snapshot() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.lines)
}

// NewLogger implements logging.LoggerFactory.
func (g *gatherLog) NewLogger(scope string) logging.LeveledLogger {
	return &scopeLog{g: g, scope: scope}
}

type scopeLog struct {
	g     *gatherLog
	scope string
}

// Only gathering and allocation trouble is evidence; pion warns about
// much else (closing sockets, late packets) that is noise here.
func (l *scopeLog) keep(msg string) {
	if l.scope != "ice" && l.scope != "turnc" {
		return
	}
	low := strings.ToLower(msg)
	for _, k := range []string{"relay", "allocate", "turn", "stun", "srflx", "gather"} {
		if strings.Contains(low, k) && !strings.Contains(low, "close") {
			l.g.add(msg)
			return
		}
	}
}

func (l *scopeLog) Trace(string)                 {}
func (l *scopeLog) Tracef(string, ...any)        {}
func (l *scopeLog) Debug(string)                 {}
func (l *scopeLog) Debugf(string, ...any)        {}
func (l *scopeLog) Info(string)                  {}
func (l *scopeLog) Infof(string, ...any)         {}
func (l *scopeLog) Warn(msg string)              { l.keep(msg) }
func (l *scopeLog) Warnf(f string, args ...any)  { l.keep(fmt.Sprintf(f, args...)) }
func (l *scopeLog) Error(msg string)             { l.keep(msg) }
func (l *scopeLog) Errorf(f string, args ...any) { l.keep(fmt.Sprintf(f, args...)) }

package ice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	pice "github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// ResponderConfig configures the responder's ICE peer.
type ResponderConfig struct {
	// Servers are STUN/TURN URLs ("stun:host:3478",
	// "turn:host:3478?transport=udp") the responder gathers with and
	// offers to clients.
	Servers []string
	// TURNUser/TURNPass are long-term TURN credentials; TURNSecret derives
	// TURN REST credentials instead.
	TURNUser   string
	TURNPass   probe.Secret
	TURNSecret probe.Secret
	// ShareTURNCredentials hands the TURN credentials to clients in the
	// offer (REST credentials are time-limited), as a WebRTC service does.
	// Off, clients use their own --turn-user/--turn-pass.
	ShareTURNCredentials bool
	// Token is checked here as well (Authorization: Bearer); `ucprobe
	// serve` checks it in front of this handler anyway. Without one the
	// peer refuses every session: an ICE agent sends connectivity checks
	// to whatever addresses the answer names, which only an authenticated
	// client may choose. Sharing TURN credentials needs one too.
	Token probe.Secret
	// MaxSessions bounds concurrent sessions (default 8), and
	// MaxSessionsPerSource one source's share of them (an IPv4 address or
	// an IPv6 /64; default MaxSessions/4, at least 1). SessionTimeout
	// bounds each one's life (default 30 s).
	MaxSessions          int
	MaxSessionsPerSource int
	SessionTimeout       time.Duration
	// MaxRemoteCandidates bounds the candidates an answer may carry
	// (default DefaultMaxRemoteCandidates): each one gets at most
	// Timing.MaxBindingRequests checks per local candidate.
	MaxRemoteCandidates int
	// IPFilter restricts the host candidates (e.g. to the address clients
	// reach); Loopback includes loopback candidates.
	IPFilter func(net.IP) bool
	Loopback bool
	// Timing bounds the agents; zero means DefaultTiming.
	Timing Timing
	// Net is the agents' network; nil means the OS (tests: pion vnet).
	Net    transport.Net
	Logger *slog.Logger
	// now is the clock TURN REST credentials are derived with (each
	// session's at its creation); nil means time.Now (tests move it).
	now func() time.Time
}

// Responder is the responder's ICE peer: an http.Handler for the
// signalling under /v1/ice/ that runs one ICE agent per session and
// echoes the media-like stream. Close ends every session.
type Responder struct {
	cfg ResponderConfig
	// servers are the parsed URLs without credentials: each session gets
	// its own copies with the credentials resolved at its creation.
	servers  []server
	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
	wg       sync.WaitGroup
}

type session struct {
	id       string
	source   netip.Prefix
	agent    *pice.Agent
	ctx      context.Context
	cancel   context.CancelFunc
	answered bool
}

// ErrBadServer: a responder server URL that does not parse.
var ErrBadServer = errors.New("bad STUN/TURN URL")

// ErrShareNeedsToken: TURN credentials would go to anyone who asks.
var ErrShareNeedsToken = errors.New("sharing TURN credentials needs a token")

// DefaultMaxRemoteCandidates bounds an answer's candidates: a client
// with several interfaces, two server-reflexive and two relay candidates
// stays below it.
const DefaultMaxRemoteCandidates = 12

// ResponderMaxBindingRequests bounds the peer's checks per candidate pair
// (DefaultTiming's 20 is the client's): half a second of checks opens the
// site's pinholes; the client's own checks trigger answers beyond it.
const ResponderMaxBindingRequests = 10

// ICEOff is the refusal of a responder without a token.
const ICEOff = "the two-ended ICE check is off: this responder runs without a token (start ucprobe serve with --token-file FILE, and give clients the same token)"

// NewResponderHandler checks the configuration and returns the handler.
func NewResponderHandler(cfg ResponderConfig) (*Responder, error) {
	if cfg.ShareTURNCredentials && cfg.Token == "" {
		return nil, fmt.Errorf("%w: without one anyone who asks gets the TURN password (give a token, or drop the sharing)", ErrShareNeedsToken)
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 8
	}
	if cfg.MaxSessionsPerSource <= 0 {
		cfg.MaxSessionsPerSource = max(1, cfg.MaxSessions/4)
	}
	if cfg.MaxRemoteCandidates <= 0 {
		cfg.MaxRemoteCandidates = DefaultMaxRemoteCandidates
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 30 * time.Second
	}
	if cfg.Timing == (Timing{}) {
		cfg.Timing = DefaultTiming
		cfg.Timing.MaxBindingRequests = ResponderMaxBindingRequests
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	r := &Responder{cfg: cfg, sessions: map[string]*session{}}
	// Whether the credentials resolve does not depend on the time: checked
	// once here, resolved again for each session (sessionServers).
	auth, credErr := probe.ResolveTURNCredentials(r.turnCredentials(), cfg.now())
	for _, raw := range cfg.Servers {
		u, err := stun.ParseURI(raw)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrBadServer, raw, err)
		}
		if isTURN(u) && auth.Kind == probe.CredNone {
			return nil, whyNone(fmt.Errorf("%w %q: a TURN server needs credentials (TURN user and password, or a REST secret)", ErrBadServer, raw), credErr)
		}
		r.servers = append(r.servers, server{u})
	}
	return r, nil
}

func (r *Responder) turnCredentials() probe.TURNCredentials {
	return probe.TURNCredentials{Username: r.cfg.TURNUser, Password: r.cfg.TURNPass, SharedSecret: r.cfg.TURNSecret}
}

// sessionServers are one session's STUN/TURN URLs with the TURN
// credentials resolved at now, what its offer hands the client of them
// (the credentials only with ShareTURNCredentials), and the password its
// gathering log scrubs. Per session, not once at start: TURN REST
// credentials expire probe.TURNRESTTTL after they are derived, and a
// responder serves for longer than that.
func (r *Responder) sessionServers(now time.Time) (servers []server, offered []ICEServer, secrets []string) {
	auth, _ := probe.ResolveTURNCredentials(r.turnCredentials(), now) // resolvable: checked at start
	user, pass := auth.Username, auth.Password.Reveal()
	for _, sv := range r.servers {
		u := *sv.uri
		o := ICEServer{URLs: []string{u.String()}}
		if isTURN(&u) {
			u.Username, u.Password = user, pass
			if r.cfg.ShareTURNCredentials {
				o.Username, o.Credential = user, pass
			}
		}
		servers = append(servers, server{&u})
		offered = append(offered, o)
	}
	return servers, offered, []string{pass}
}

// String and GoString keep fmt (and slog) from dumping the responder:
// its config holds the TURN password and the token in an unexported
// field, where fmt never calls probe.Secret's methods.
func (r *Responder) String() string {
	return fmt.Sprintf("ice.Responder(%d STUN/TURN servers)", len(r.servers))
}

// GoString: see String.
func (r *Responder) GoString() string { return r.String() }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func hello(msg string) Hello { return Hello{Schema: Schema, Software: Software, Error: msg} }

// ServeHTTP routes the signalling. It accepts paths with or without the
// /v1/ice prefix (mounted with or without http.StripPrefix).
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.cfg.Token == "" {
		writeJSON(w, http.StatusForbidden, hello(ICEOff))
		return
	}
	if !responder.RequireBearer(w, req, r.cfg.Token, hello("token required or wrong")) {
		return
	}
	path := strings.TrimPrefix(req.URL.Path, "/v1/ice")
	path = strings.Trim(path, "/")
	parts := strings.Split(path, "/")
	switch {
	case path == "" && req.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, hello(""))
	case path == "sessions" && req.Method == http.MethodPost:
		r.offer(w, req)
	case len(parts) == 3 && parts[0] == "sessions" && parts[2] == "answer" && req.Method == http.MethodPost:
		r.answer(w, req, parts[1])
	case len(parts) == 2 && parts[0] == "sessions" && req.Method == http.MethodDelete:
		r.end(parts[1])
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, hello("no such endpoint"))
	}
}

func (r *Responder) offer(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, maxBody))
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, hello("shutting down"))
		return
	}
	src := requestSource(req)
	if len(r.sessions) >= r.cfg.MaxSessions {
		r.mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, hello(fmt.Sprintf("busy: %d ICE sessions at once at most; try again within %s", r.cfg.MaxSessions, r.cfg.SessionTimeout)))
		return
	}
	if n := r.heldBy(src); n >= r.cfg.MaxSessionsPerSource {
		r.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, hello(fmt.Sprintf("busy: %s holds %d of %d ICE sessions, its share; end one (DELETE) or wait %s", src, n, r.cfg.MaxSessions, r.cfg.SessionTimeout)))
		return
	}
	id := newID()
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.SessionTimeout)
	s := &session{id: id, source: src, ctx: ctx, cancel: cancel}
	r.sessions[id] = s
	r.wg.Add(1)
	r.mu.Unlock()

	servers, offered, secrets := r.sessionServers(r.cfg.now())
	glog := &gatherLog{secrets: secrets}
	a, closeA, err := newAgent(agentSetup{ctx: ctx, servers: servers, timing: r.cfg.Timing, net: r.cfg.Net, loopback: r.cfg.Loopback,
		ipFilter: r.hostFilter(req), log: glog})
	if err != nil {
		cancel()
		r.mu.Lock()
		delete(r.sessions, id)
		r.mu.Unlock()
		r.wg.Done()
		writeJSON(w, http.StatusInternalServerError, hello("ICE agent: "+err.Error()))
		return
	}
	r.mu.Lock()
	s.agent = a
	r.mu.Unlock()
	// The session's end closes the agent, whoever ends it.
	go func() {
		defer r.wg.Done()
		<-ctx.Done()
		closeA()
		r.mu.Lock()
		delete(r.sessions, id)
		r.mu.Unlock()
	}()
	start := time.Now()
	done := make(chan struct{})
	if err := a.OnCandidate(func(c pice.Candidate) {
		if c == nil {
			close(done)
		}
	}); err == nil {
		err = a.GatherCandidates()
	}
	if err != nil {
		cancel()
		writeJSON(w, http.StatusInternalServerError, hello("gathering: "+err.Error()))
		return
	}
	gctx, gcancel := context.WithTimeout(req.Context(), r.cfg.Timing.Gather)
	took, _ := waitGathered(gctx, done, start)
	gcancel()
	cands, _ := a.GetLocalCandidates()
	ufrag, pwd, _ := a.GetLocalUserCredentials()
	o := Offer{Hello: hello(""), Session: id, Ufrag: ufrag, Pwd: pwd, ICEServers: offered, GatheringMS: ms(took), Candidates: []string{}}
	for _, c := range cands {
		o.Candidates = append(o.Candidates, c.Marshal())
	}
	r.cfg.Logger.Debug("ice session offered", "session", id, "candidates", len(cands), "gather_errors", glog.snapshot())
	writeJSON(w, http.StatusCreated, o)
}

// requestSource is the source key of the request's peer (the zero
// prefix when it cannot be read: all such requests share one share).
func requestSource(req *http.Request) netip.Prefix {
	ap, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	return responder.SourceKey(ap.Addr())
}

// heldBy counts src's sessions; r.mu is held.
func (r *Responder) heldBy(src netip.Prefix) int {
	n := 0
	for _, s := range r.sessions {
		if s.source == src {
			n++
		}
	}
	return n
}

// hostFilter restricts the session's host candidates to the address the
// client's signalling reached (and to cfg.IPFilter). The client reaches
// that one; the others (an internal NIC, a DMZ address) may be unroutable
// from the TURN server, and coturn tears the whole allocation down (the
// client's TCP control connection gets a reset) the first time sending to
// a peer fails ("udp send: Network is unreachable"): one unroutable host
// candidate of ours killed the client's relay over TCP, which is the only
// path where UDP is blocked. A loopback address (a reverse proxy in front)
// says nothing about the path, so then every address is offered.
func (r *Responder) hostFilter(req *http.Request) func(net.IP) bool {
	base := r.cfg.IPFilter
	la, _ := req.Context().Value(http.LocalAddrContextKey).(net.Addr)
	ta, ok := la.(*net.TCPAddr)
	if !ok || ta.IP == nil || ta.IP.IsUnspecified() || (ta.IP.IsLoopback() && !r.cfg.Loopback) {
		return base
	}
	local := ta.IP
	return func(ip net.IP) bool {
		return ip.Equal(local) && (base == nil || base(ip))
	}
}

func (r *Responder) answer(w http.ResponseWriter, req *http.Request, id string) {
	r.mu.Lock()
	s := r.sessions[id]
	if s != nil && (s.answered || s.agent == nil) {
		s = nil
	}
	if s != nil {
		s.answered = true
	}
	r.mu.Unlock()
	if s == nil {
		writeJSON(w, http.StatusNotFound, hello("no such session (ended, or answered already)"))
		return
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	if err != nil {
		s.cancel()
		writeJSON(w, http.StatusBadRequest, hello("answer: "+err.Error()))
		return
	}
	ans, cands, err := decodeAnswer(data, r.cfg.MaxRemoteCandidates)
	if err != nil {
		s.cancel()
		writeJSON(w, http.StatusBadRequest, hello(err.Error()))
		return
	}
	for _, c := range cands {
		_ = s.agent.AddRemoteCandidate(c)
	}
	// A failed session ends at once: its slot and its checks go with it.
	_ = s.agent.OnConnectionStateChange(func(st pice.ConnectionState) {
		if st == pice.ConnectionStateFailed || st == pice.ConnectionStateClosed {
			s.cancel()
		}
	})
	conn, err := s.agent.StartAccept(ans.Ufrag, ans.Pwd)
	if err != nil {
		s.cancel()
		writeJSON(w, http.StatusBadRequest, hello("answer: "+err.Error()))
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer s.cancel()
		if err := s.agent.AwaitConnect(s.ctx); err != nil {
			return
		}
		n := echoBack(s.ctx, conn)
		r.cfg.Logger.Debug("ice session ended", "session", id, "media_packets", n)
	}()
	writeJSON(w, http.StatusOK, hello(""))
}

func (r *Responder) end(id string) {
	r.mu.Lock()
	s := r.sessions[id]
	r.mu.Unlock()
	if s != nil {
		s.cancel()
	}
}

// Sessions is how many sessions are open.
func (r *Responder) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

// Close ends every session and waits until their agents are closed.
func (r *Responder) Close() error {
	r.mu.Lock()
	r.closed = true
	for _, s := range r.sessions {
		s.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

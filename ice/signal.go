package ice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	pice "github.com/pion/ice/v4"
	"github.com/pion/stun/v4"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// The signalling protocol between `ucprobe run` and a responder's ICE
// peer (JSON over HTTP, under /v1/ice/):
//
//	POST   /v1/ice/sessions              -> 201 Offer (the responder gathered first)
//	POST   /v1/ice/sessions/{id}/answer  Answer -> 200 Hello
//	DELETE /v1/ice/sessions/{id}         -> 204
//	GET    /v1/ice/                      -> 200 Hello
//
// The responder hands out its STUN/TURN servers (with TURN credentials
// when it is configured to share them, as a WebRTC service does) so both
// ends gather from the same servers.

// Schema names the signalling protocol's version.
const Schema = "ucprobe/ice/v1"

// Software is what a ucprobe responder says it is.
const Software = "ucprobe"

// Hello identifies a responder.
type Hello struct {
	Schema   string `json:"schema"`
	Software string `json:"software"`
	Error    string `json:"error,omitempty"`
}

// ICEServer is one STUN/TURN server as WebRTC's RTCIceServer writes it.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Offer is the responder's side of a session.
type Offer struct {
	Hello
	Session     string      `json:"session"`
	Ufrag       string      `json:"ufrag"`
	Pwd         string      `json:"pwd"`
	Candidates  []string    `json:"candidates"`
	ICEServers  []ICEServer `json:"ice_servers"`
	GatheringMS float64     `json:"gathering_ms"`
}

// Answer is the client's side.
type Answer struct {
	Ufrag      string   `json:"ufrag"`
	Pwd        string   `json:"pwd"`
	Candidates []string `json:"candidates"`
}

const maxBody = 64 << 10

// responderEndpoint is the responder's control endpoint (HTTPS, with the
// run's trust policy: probe.Config.ResponderEndpoint).
func responderEndpoint(cfg probe.Config) (*probe.ResponderEndpoint, error) {
	ep, err := cfg.ResponderEndpoint()
	if errors.Is(err, probe.ErrNoResponder) {
		return nil, errors.New("the two-ended ICE check needs a responder: pass --responder HOST")
	}
	return ep, err
}

type signaller struct {
	client *http.Client
	ep     *probe.ResponderEndpoint
	base   string
	token  probe.Secret
	sig    *probe.ICESignalling
	// bound caps one request: a responder that hangs costs this, not the
	// whole check's deadline.
	bound time.Duration
}

// String and GoString keep fmt (and slog) from printing the token: it
// sits in an unexported field, where fmt never calls probe.Secret's
// methods. Value receivers, so a signaller and a *signaller both use them.
func (s signaller) String() string { return "ice.signaller(" + s.base + ")" }

// GoString: see String.
func (s signaller) GoString() string { return s.String() }

func (s *signaller) do(ctx context.Context, method, path string, in, out any) error {
	if s.bound > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.bound)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token.Reveal())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if terr := s.ep.TrustError(probe.UnwrapURLError(err)); errors.Is(terr, probe.ErrResponderUntrusted) {
			return classed(probe.ClassTLS, terr)
		}
		// Keep the URL (never the token, which rides in a header) and
		// classify the socket error.
		return classed(probe.Classify(err), fmt.Errorf("signalling %s %s: %w", method, s.base+path, probe.UnwrapURLError(err)))
	}
	defer resp.Body.Close()
	s.sig.StatusCode = resp.StatusCode
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return classed(probe.Classify(err), fmt.Errorf("signalling %s %s: reading the answer: %w", method, path, err))
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var hello Hello
	isHello := ct == "application/json" && json.Unmarshal(data, &hello) == nil && hello.Schema == Schema
	switch {
	case resp.StatusCode == http.StatusForbidden && isHello && hello.Error != "":
		// A responder without a token: its ICE peer is off.
		return classed(probe.ClassAuth, fmt.Errorf("%w at %s: restart it with --token-file FILE and pass the same token here", ErrICEOff, s.ep.Host))
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		return classed(probe.ClassAuth, fmt.Errorf("%w (HTTP %d at %s): check --token", ErrTokenRejected, resp.StatusCode, s.base))
	}
	if !isHello {
		return classed(probe.ClassProtocol, fmt.Errorf("%w: %s answered HTTP %d with %s, not ucprobe ICE signalling (is `ucprobe serve` running there, and new enough?)",
			ErrNotResponder, s.base, resp.StatusCode, describeBody(ct, data)))
	}
	s.sig.Software = hello.Software
	if resp.StatusCode >= 300 {
		return classed(probe.ClassProtocol, fmt.Errorf("responder %s: HTTP %d: %s", s.base, resp.StatusCode, hello.Error))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return classed(probe.ClassProtocol, fmt.Errorf("%w: malformed answer from %s: %v", ErrNotResponder, s.base, err))
		}
	}
	return nil
}

func describeBody(ct string, data []byte) string {
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("%s (%d bytes)", ct, len(data))
}

// twoEnded runs full ICE against a ucprobe responder.
func (c *Checker) twoEnded(ctx context.Context, spec probe.Spec, cfg *probe.Config, det *probe.ICEDetails) error {
	s, rhost, err := c.signallerFor(spec, cfg, det)
	if err != nil {
		return err
	}
	var offer Offer
	t0 := time.Now()
	if err := s.do(ctx, http.MethodPost, "/sessions", struct{}{}, &offer); err != nil {
		return err
	}
	det.Signalling.RTTMS = ms(time.Since(t0))
	det.Signalling.Session = offer.Session
	det.PeerGatheringMS = offer.GatheringMS
	remote, err := decodeOffer(&offer)
	if err != nil {
		return classed(probe.ClassProtocol, fmt.Errorf("%w: %s: %v", ErrNotResponder, s.base, err))
	}
	defer s.endSession(ctx, offer.Session)

	servers, kind, secrets := c.offeredServers(offer.ICEServers, cfg)
	if c.serverFilter != nil {
		servers = slices.DeleteFunc(servers, func(s server) bool { return !c.serverFilter(s) })
	}
	det.TURNCredentials = kind
	det.Servers = displays(servers)
	det.PeerServers = det.Servers
	det.RelayExpected = hasTURN(servers)

	t := c.timing()
	glog := &gatherLog{secrets: secrets}
	a, closeA, err := newAgent(agentSetup{ctx: ctx, servers: servers, relayOnly: c.relayOnly, timing: t, net: c.Net, loopback: c.Loopback || isLoopbackHost(rhost), ipFilter: c.IPFilter, log: glog,
		resolver: probe.ResolverOf(cfg), cutAtDeadline: true})
	if err != nil {
		return classed(probe.ClassProtocol, fmt.Errorf("ICE agent: %w", err))
	}
	var watchers []*watcher
	defer closeThenCollect(closeA, &watchers)
	start := time.Now()
	done := make(chan struct{})
	if err := a.OnCandidate(func(cand pice.Candidate) {
		if cand == nil {
			close(done)
		}
	}); err != nil {
		return classed(probe.ClassProtocol, err)
	}
	w, err := watch(a, 100*time.Millisecond)
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	watchers = append(watchers, w)
	if err := a.GatherCandidates(); err != nil {
		return classed(probe.ClassProtocol, fmt.Errorf("gathering: %w", err))
	}
	gctx, gcancel := context.WithTimeout(ctx, gatherBound(ctx, t))
	took, ok := waitGathered(gctx, done, start)
	gcancel()
	det.GatheringMS, det.GatherTimedOut = ms(took), !ok
	conn, err := s.answer(ctx, a, offer, remote)
	if err != nil {
		if ctx.Err() != nil {
			// The responder's offer had come back: a slow path the
			// deadline cut, as for a TURN server that had answered.
			return classed(probe.ClassCanceled, fmt.Errorf("%w: the run's deadline ended ICE while our answer went to the responder (its offer had come back after %.0f ms)",
				probe.ErrCutAfterAnswer, det.Signalling.RTTMS))
		}
		return err
	}
	checking := time.Now()
	connected := waitConnected(ctx, w)
	if connected {
		det.ConnectedMS = ms(time.Since(start))
	}
	snap, fresh := w.finish(statsBy(ctx))
	c.collect(det, snap, connectedAgent(a, connected), glog)
	if !connected {
		return c.connectError(ctx, det, fresh, time.Since(checking), cfg.Clock)
	}
	// The responder echoes on its side of the session.
	c.media(ctx, cfg, det, conn, nil)
	det.State = w.stateName()
	return nil
}

// signallerFor reaches the responder's ICE endpoint: the run's
// --responder, else the check's own host.
func (c *Checker) signallerFor(spec probe.Spec, cfg *probe.Config, det *probe.ICEDetails) (*signaller, string, error) {
	rcfg := *cfg
	if rcfg.Responder == "" {
		rcfg.Responder = spec.DialHost()
	}
	ep, err := responderEndpoint(rcfg)
	if err != nil {
		return nil, "", classed(probe.ClassProtocol, err)
	}
	base := ep.Base + responder.PathICE
	client := c.HTTPClient
	if client == nil {
		client = ep.Client
	}
	det.Signalling = &probe.ICESignalling{URL: base + "/", Stage: probe.StageOffer}
	// The responder gathers before it answers the offer: allow for that.
	return &signaller{client: client, ep: ep, base: base, token: cfg.ResponderToken, sig: det.Signalling,
		bound: 2*c.timing().Gather + time.Second}, ep.Host, nil
}

// answer sends what this agent gathered in time (gather-then-answer: what
// came late is not sent), adds the responder's candidates and starts the
// checks.
func (s *signaller) answer(ctx context.Context, a *pice.Agent, offer Offer, remote []pice.Candidate) (*pice.Conn, error) {
	var local []string
	if cs, err := a.GetLocalCandidates(); err == nil {
		for _, cand := range answerCandidates(cs, DefaultMaxRemoteCandidates) {
			local = append(local, cand.Marshal())
		}
	}
	ufrag, pwd, err := a.GetLocalUserCredentials()
	if err != nil {
		return nil, classed(probe.ClassProtocol, err)
	}
	s.sig.Stage = probe.StageAnswer
	if err := s.do(ctx, http.MethodPost, "/sessions/"+offer.Session+"/answer", Answer{Ufrag: ufrag, Pwd: pwd, Candidates: local}, nil); err != nil {
		return nil, err
	}
	s.sig.Stage = probe.StageDone
	for _, rc := range remote {
		if err := a.AddRemoteCandidate(rc); err != nil {
			return nil, classed(probe.ClassProtocol, fmt.Errorf("remote candidate %q: %w", rc.Marshal(), err))
		}
	}
	conn, err := a.StartDial(offer.Ufrag, offer.Pwd)
	if err != nil {
		return nil, classed(probe.ClassProtocol, err)
	}
	return conn, nil
}

// endSession tells the responder the session is over, however the check
// ended: within a second, and within the check's own deadline (a run ends
// on time; the responder expires a session it is not told about).
func (s *signaller) endSession(ctx context.Context, session string) {
	end := time.Now().Add(time.Second)
	if dl, ok := checkEnd(ctx); ok && dl.Before(end) {
		end = dl
	}
	if soon := time.Now().Add(20 * time.Millisecond); end.Before(soon) {
		end = soon
	}
	dctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), end)
	defer cancel()
	_ = s.do(dctx, http.MethodDelete, "/sessions/"+session, nil, nil)
}

// offeredServers turns the responder's ICE servers into agent URLs. TURN
// credentials: the responder's when it shared them, else the run's own.
func (c *Checker) offeredServers(list []ICEServer, cfg *probe.Config) ([]server, probe.CredentialKind, []string) {
	// A user name without its password resolves to none: the TURN
	// servers without shared credentials are left out, as with none.
	auth, _ := probe.ResolveTURNCredentials(cfg.TURN, time.Now())
	user, pass, kind := auth.Username, auth.Password.Reveal(), auth.Kind
	secrets := []string{pass}
	usedKind := probe.CredNone
	var out []server
	for _, is := range list {
		for _, raw := range is.URLs {
			u, err := stun.ParseURI(raw)
			if err != nil {
				continue
			}
			if isTURN(u) {
				switch {
				case is.Username != "" && is.Credential != "":
					u.Username, u.Password = is.Username, is.Credential
					usedKind = probe.CredResponder
					secrets = append(secrets, is.Credential)
				case user != "":
					u.Username, u.Password = user, pass
					usedKind = kind
				default:
					continue // a TURN server without credentials yields nothing
				}
			}
			out = append(out, server{u})
		}
	}
	return withTCPTwins(out), usedKind, secrets
}

// withTCPTwins adds TURN over TCP on the same host and port for every
// TURN over UDP server that has no TCP entry (coturn and pion listen on
// both by default): where UDP is blocked, the relay over TCP is the path
// the softphone falls back to, and the evidence should show it.
func withTCPTwins(ss []server) []server {
	has := map[string]bool{}
	for _, s := range ss {
		if s.uri.Scheme == stun.SchemeTypeTURN && s.uri.Proto == stun.ProtoTypeTCP {
			has[net.JoinHostPort(s.uri.Host, strconv.Itoa(s.uri.Port))] = true
		}
	}
	out := ss
	for _, s := range ss {
		key := net.JoinHostPort(s.uri.Host, strconv.Itoa(s.uri.Port))
		if s.uri.Scheme == stun.SchemeTypeTURN && s.uri.Proto == stun.ProtoTypeUDP && !has[key] {
			twin := *s.uri
			twin.Proto = stun.ProtoTypeTCP
			out = append(out, server{&twin})
			has[key] = true
		}
	}
	return out
}

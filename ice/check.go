// Package ice is ucprobe's full ICE check: two ICE agents (pion/ice) that
// gather host, server-reflexive and relay candidates, run connectivity
// checks and connect, then a media-like stream on the selected pair that
// measures loss, jitter and round trip and estimates a MOS (E-model).
//
// One-ended mode needs no far end: the second agent lives in this process
// and uses relay candidates only, so the connection proves the TURN relay
// path from this client end to end. Relay-relay makes both agents
// relay-only (the estos UCConnect topology). Two-ended mode runs full ICE
// against a ucprobe responder's agent over its HTTP signalling endpoint
// (see Responder).
package ice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	pice "github.com/pion/ice/v4"
	"github.com/pion/transport/v5"

	"github.com/ucprobe/ucprobe/probe"
)

// Checker runs ICE checks. The zero value is what `ucprobe run` uses;
// tests set the networks (pion vnet) and filters.
type Checker struct {
	// Timing bounds the phases; zero means DefaultTiming.
	Timing Timing
	// Net is the local agent's network; nil means the OS.
	Net transport.Net
	// PeerNet is the in-process peer's network (one-ended, relay-relay);
	// nil means Net.
	PeerNet transport.Net
	// IPFilter restricts host candidates (tests keep to 127.0.0.0/8).
	IPFilter func(net.IP) bool
	// Loopback includes loopback host candidates; it is on by itself when
	// the server or responder is a loopback address.
	Loopback bool
	// HTTPClient does the two-ended signalling; nil means a direct client
	// (no proxy: the responder is on the path under test).
	HTTPClient *http.Client
	// Codec shapes the media stream; zero means G711.
	Codec Codec

	// Tests: keep only the offered servers this accepts (two-ended), and
	// make the local agent relay-only.
	serverFilter func(server) bool
	relayOnly    bool
}

// Check is the ice prober (probe.Prober) with the default Checker.
func Check(ctx context.Context, spec probe.Spec, cfg *probe.Config) probe.Result {
	var c Checker
	return c.Check(ctx, spec, cfg)
}

// classedError carries the error class a failure was derived from.
type classedError struct {
	class probe.ErrorClass
	err   error
}

func (e *classedError) Error() string { return e.err.Error() }
func (e *classedError) Unwrap() error { return e.err }

func classed(c probe.ErrorClass, err error) error { return &classedError{class: c, err: err} }

func classOf(err error) probe.ErrorClass {
	var ce *classedError
	if errors.As(err, &ce) {
		return ce.class
	}
	return probe.Classify(err)
}

// Check runs one ICE check per spec.Mode and returns its evidence.
func (c *Checker) Check(ctx context.Context, spec probe.Spec, cfg *probe.Config) probe.Result {
	if cfg == nil {
		cfg = &probe.Config{}
	}
	res := probe.NewResult(spec)
	mode := probe.ICEMode(spec.Mode)
	if mode == "" {
		mode = ModeOneEnded
	}
	det := &probe.ICEDetails{Mode: mode, LocalCandidates: []probe.ICECandidate{},
		RemoteCandidates: []probe.ICECandidate{}, Pairs: []probe.ICEPair{}, TURNCredentials: probe.CredNone}
	res.Details.ICE = det
	outer := ctx
	ctx, cancel := working(ctx, cfg.Clock)
	defer cancel()
	var err error
	switch mode {
	case ModeOneEnded, ModeRelayRelay:
		err = c.local(ctx, spec, cfg, det)
	case ModeTwoEnded:
		err = c.twoEnded(ctx, spec, cfg, det)
	case ModeRelayLoopback:
		err = c.relayLoopback(ctx, spec, cfg, det)
	default:
		err = classed(probe.ClassProtocol, fmt.Errorf("%w %q: use one-ended, relay-relay, two-ended or relay-loopback", ErrBadMode, spec.Mode))
	}
	switch {
	case ctx.Err() != nil && outer.Err() == nil && (classOf(err) == probe.ClassTimeout || classOf(err) == probe.ClassCanceled) &&
		!errors.Is(err, probe.ErrCutAfterAnswer) && len(det.Pairs) == 0:
		// Our own early stop for the teardown, before any pair: the run's
		// deadline cut this check; its silence is no evidence.
		res = probe.Canceled(spec, "the run ended before this check finished: "+err.Error())
		res.Details.ICE = det
	case errors.Is(err, probe.ErrCutAfterAnswer):
		// Not a failure, not silence: a partial result the deadline cut.
		res.Status, res.Class, res.Error = probe.StatusWarn, probe.ClassCanceled, err.Error()
	case err != nil:
		res.Fail(classOf(err), err)
		if mode == ModeRelayLoopback {
			relayLoopbackStatus(&res, err)
		}
	}
	if cfg.Logger != nil {
		// Never secrets: the evidence holds none (servers without
		// credentials, gather errors redacted).
		cfg.Logger.Debug("ice check", "check", spec.ID, "mode", mode, "state", det.State, "servers", det.Servers,
			"gathering_ms", det.GatheringMS, "connected_ms", det.ConnectedMS, "selected_via", det.SelectedVia,
			"pairs", len(det.Pairs), "gather_errors", det.GatherErrors, "class", res.Class)
	}
	if det.Media != nil && det.Media.Transport == "udp" && det.SelectedVia != "" && det.ClientRelayOverTCP() {
		det.Media.Transport = det.Selected.Local.RelayProtocol
	}
	return res
}

func (c *Checker) timing() Timing {
	if c.Timing == (Timing{}) {
		return DefaultTiming
	}
	return c.Timing
}

func (c *Checker) codec() Codec {
	if c.Codec.PayloadBytes == 0 {
		return G711
	}
	return c.Codec
}

// local runs both agents in this process: one-ended (a full agent
// against a relay-only peer) and relay-relay (both relay-only).
func (c *Checker) local(ctx context.Context, spec probe.Spec, cfg *probe.Config, det *probe.ICEDetails) error {
	host := spec.DialHost()
	if host == "" {
		return classed(probe.ClassProtocol, errors.New("the ice check needs a STUN/TURN server (target)"))
	}
	servers, peerServers, pass, err := localServers(host, spec, cfg, det)
	if err != nil {
		return err
	}
	t := c.timing()
	relayOnly := det.Mode == ModeRelayRelay
	if relayOnly {
		servers = peerServers
		det.Servers = det.PeerServers
	}
	// Every pair has a relay end here: waiting for a better pair gains nothing.
	t.RelayWait = 0
	glog := &gatherLog{secrets: []string{pass, cfg.TURN.Password.Reveal(), cfg.TURN.SharedSecret.Reveal()}}
	base := agentSetup{ctx: ctx, relayOnly: relayOnly, timing: t, net: c.Net, loopback: c.Loopback || isLoopbackHost(host),
		ipFilter: c.IPFilter, log: glog, resolver: probe.ResolverOf(cfg), cutAtDeadline: true}
	a, b, closeAgents, err := c.agentPair(base, servers, peerServers)
	if err != nil {
		return err
	}
	var watchers []*watcher
	defer closeThenCollect(closeAgents, &watchers)

	start := time.Now()
	// Trickle: every candidate goes to the other agent as its text form,
	// exactly as signalling would carry it.
	aDone, bDone := make(chan struct{}), make(chan struct{})
	if err := trickle(a, b, aDone); err != nil {
		return classed(probe.ClassProtocol, err)
	}
	if err := trickle(b, a, bDone); err != nil {
		return classed(probe.ClassProtocol, err)
	}
	wa, err := watch(a, 100*time.Millisecond)
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	watchers = append(watchers, wa)
	wb, err := watch(b, time.Second)
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	watchers = append(watchers, wb)
	if err := a.GatherCandidates(); err != nil {
		return classed(probe.ClassProtocol, fmt.Errorf("gathering: %w", err))
	}
	if err := b.GatherCandidates(); err != nil {
		return classed(probe.ClassProtocol, fmt.Errorf("peer gathering: %w", err))
	}
	gctx, gcancel := context.WithTimeout(ctx, gatherBound(ctx, t))
	aTook, aOK := waitGathered(gctx, aDone, start)
	bTook, bOK := waitGathered(gctx, bDone, start)
	gcancel()
	det.GatheringMS, det.PeerGatheringMS = ms(aTook), ms(bTook)
	det.GatherTimedOut = !aOK || !bOK
	if ctx.Err() != nil {
		snap, _ := wa.finish(statsBy(ctx))
		c.collect(det, snap, nil, glog)
		return classed(probe.Classify(ctx.Err()), fmt.Errorf("gathering: %w", ctx.Err()))
	}
	if n := countCandidates(b); n == 0 {
		snap, _ := wa.finish(statsBy(ctx))
		c.collect(det, snap, nil, glog)
		return classed(noRelayClass(det), fmt.Errorf("%w: the relay-only peer got no relay candidate from the TURN server %s (ICE does not say why: see the turn check)", ErrNoCandidates, host))
	}
	return c.connectLocal(ctx, cfg, det, a, b, wa, wb, start, glog)
}

// localServers are the STUN/TURN URLs of the one-ended and relay-relay
// modes, with the credentials on them: the client agent's and the
// relay-only peer's (TURN only).
func localServers(host string, spec probe.Spec, cfg *probe.Config, det *probe.ICEDetails) (servers, peer []server, pass string, err error) {
	auth, credErr := probe.ResolveTURNCredentials(cfg.TURN, time.Now())
	det.TURNCredentials = auth.Kind
	user, pass := auth.Username, auth.Password.Reveal()
	servers, err = serverURLs(host, spec.Port, spec.Transport, user, pass)
	if err != nil {
		return nil, nil, "", classed(probe.ClassProtocol, err)
	}
	det.Servers = displays(servers)
	if user == "" {
		return nil, nil, "", classed(probe.ClassAuth, whyNone(fmt.Errorf("%w: the %s ICE check relays through the TURN server %s; give --turn-user and --turn-pass (or --turn-secret)",
			ErrNoTURNCredentials, det.Mode, host), credErr))
	}
	det.RelayExpected = true
	for _, s := range servers {
		if isTURN(s.uri) {
			peer = append(peer, s)
		}
	}
	det.PeerServers = displays(peer)
	return servers, peer, pass, nil
}

// agentPair makes the client's agent (base with servers) and the
// relay-only peer's (with peerServers, on PeerNet when set); close ends both.
func (c *Checker) agentPair(base agentSetup, servers, peerServers []server) (a, b *pice.Agent, closeBoth func(), err error) {
	as := base
	as.servers = servers
	a, closeA, err := newAgent(as)
	if err != nil {
		return nil, nil, nil, classed(probe.ClassProtocol, fmt.Errorf("ICE agent: %w", err))
	}
	bs := base
	bs.servers, bs.relayOnly = peerServers, true
	if c.PeerNet != nil {
		bs.net = c.PeerNet
	}
	b, closeB, err := newAgent(bs)
	if err != nil {
		closeA()
		return nil, nil, nil, classed(probe.ClassProtocol, fmt.Errorf("ICE peer agent: %w", err))
	}
	return a, b, func() { closeB(); closeA() }, nil
}

// connectLocal exchanges the agents' credentials, connects them, records
// the pairs and runs the media stream over the selected pair.
func (c *Checker) connectLocal(ctx context.Context, cfg *probe.Config, det *probe.ICEDetails, a, b *pice.Agent, wa, wb *watcher, start time.Time, glog *gatherLog) error {
	aUfrag, aPwd, err := a.GetLocalUserCredentials()
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	bUfrag, bPwd, err := b.GetLocalUserCredentials()
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	connB, err := b.StartAccept(aUfrag, aPwd)
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	connA, err := a.StartDial(bUfrag, bPwd)
	if err != nil {
		return classed(probe.ClassProtocol, err)
	}
	checking := time.Now()
	connected := waitConnected(ctx, wa)
	if connected {
		det.ConnectedMS = ms(time.Since(start))
		// The controlled peer selects on the nomination; give it a moment.
		waitConnected(ctx, wb)
	}
	snap, fresh := wa.finish(statsBy(ctx))
	c.collect(det, snap, connectedAgent(a, connected), glog)
	if !connected {
		return c.connectError(ctx, det, fresh, time.Since(checking), cfg.Clock)
	}
	c.media(ctx, cfg, det, connA, func(ectx context.Context) { echoBack(ectx, connB) })
	det.State = wa.stateName()
	return nil
}

// trickle hands from's candidates to to, and closes done when from has
// finished gathering.
func trickle(from, to *pice.Agent, done chan struct{}) error {
	return from.OnCandidate(func(cand pice.Candidate) {
		if cand == nil {
			close(done)
			return
		}
		if rc, err := pice.UnmarshalCandidate(cand.Marshal()); err == nil {
			_ = to.AddRemoteCandidate(rc)
		}
	})
}

// gatherBound is the gathering budget: Timing.Gather, at most a third of
// what is left of the check.
func gatherBound(ctx context.Context, t Timing) time.Duration {
	b := t.Gather
	if dl, ok := ctx.Deadline(); ok {
		b = min(b, time.Until(dl)/3)
	}
	return max(b, 0)
}

func waitGathered(ctx context.Context, done chan struct{}, start time.Time) (time.Duration, bool) {
	select {
	case <-done:
		return time.Since(start), true
	case <-ctx.Done():
		return time.Since(start), false
	}
}

func waitConnected(ctx context.Context, w *watcher) bool {
	select {
	case <-w.connected:
		return true
	case <-w.failed:
		return false
	case <-ctx.Done():
		return false
	}
}

// closeReserve is what closing the agents and ending the session take
// once the statistics are in (measured under a millisecond; the responder
// is told within 20 ms).
const closeReserve = 50 * time.Millisecond

// working is the context the modes run under: it ends early enough that
// the last statistics and the close (TURN allocations are released over
// the path) still end within the check's deadline, which it carries
// (statsBy).
func working(ctx context.Context, clock *probe.Clock) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(context.WithValue(ctx, checkEndKey{}, dl), dl.Add(-teardown(clock)))
}

// checkEndKey carries the check's own deadline beside the earlier working
// deadline Check gives its modes (the teardown reserve between them is
// sized when the check starts; the clock learns meanwhile).
type checkEndKey struct{}

// checkEnd is the check's own deadline (the working context's is
// earlier), or ctx's deadline outside a check.
func checkEnd(ctx context.Context) (time.Time, bool) {
	if end, ok := ctx.Value(checkEndKey{}).(time.Time); ok {
		return end, true
	}
	return ctx.Deadline()
}

// statsBy is when the last statistics must be in: the check's own deadline
// less what closing takes.
func statsBy(ctx context.Context) time.Time {
	if end, ok := ctx.Value(checkEndKey{}).(time.Time); ok {
		return end.Add(-closeReserve)
	}
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(probe.NoDeadlineBound)
}

// closeThenCollect closes the agents, then waits for their watchers: a
// snapshot in flight ends once its agent closed (see watcher.finish).
func closeThenCollect(closeAgents func(), watchers *[]*watcher) {
	closeAgents()
	for _, w := range *watchers {
		w.wait()
	}
}

// connectedAgent is a when ICE connected, else nil (see collect).
func connectedAgent(a *pice.Agent, connected bool) *pice.Agent {
	if connected {
		return a
	}
	return nil
}

func countCandidates(a *pice.Agent) int {
	cs, err := a.GetLocalCandidates()
	if err != nil {
		return 0
	}
	return len(cs)
}

// noRelayClass: a TURN server that held gathering to its bound was
// silent (timeout); one that ended gathering without a candidate answered
// and refused (in ICE's words in gather_errors; auth most of the time).
func noRelayClass(det *probe.ICEDetails) probe.ErrorClass {
	if det.GatherTimedOut {
		return probe.ClassTimeout
	}
	return probe.ClassProtocol
}

// collect fills the candidate lists and the pair table from a snapshot.
// collect records the snapshot's candidates and pairs; connected is the
// agent when ICE connected (nil otherwise: there is no selected pair to
// ask for, and a busy agent must not hold the check past its deadline).
func (c *Checker) collect(det *probe.ICEDetails, s snapshot, connected *pice.Agent, glog *gatherLog) {
	var selLocal, selRemote string
	// (GetSelectedCandidatePair returns copies with new ids.)
	if connected != nil {
		if p, ok := connected.GetSelectedCandidatePairStats(); ok {
			selLocal, selRemote = p.LocalCandidateID, p.RemoteCandidateID
		}
	}
	det.LocalCandidates = candidates(s.local)
	det.RemoteCandidates = candidates(s.remote)
	det.Pairs, det.Selected = pairTable(s, selLocal, selRemote)
	det.SelectedVia = via(det.Selected)
	det.GatherErrors = glog.snapshot()
}

// connectError explains why no pair connected.
// connectError says why ICE did not connect. It is called once the far end
// answered (the responder took our answer; the TURN server gave the peer
// its relay candidates). fresh is false when the pair statistics are the
// last periodic snapshot, taken before the end (see watcher.finish);
// checked is how long the connectivity checks ran.
func (c *Checker) connectError(ctx context.Context, det *probe.ICEDetails, fresh bool, checked time.Duration, clock *probe.Clock) error {
	det.State = "failed"
	answered := 0
	for _, p := range det.Pairs {
		if p.ResponsesReceived > 0 {
			answered++
		}
	}
	switch {
	case ctx.Err() != nil && answered == 0 && len(det.Pairs) > 0 && checked < clock.UDPSilence():
		// The deadline left the checks less time than the path's silence
		// bound: no answer yet is no failure.
		det.State = "checking"
		return classed(probe.ClassCanceled, fmt.Errorf("%w: the run's deadline ended ICE %s after its checks began, before its %d pairs could be answered "+
			"(silence counts after %s on this path)", probe.ErrCutAfterAnswer, checked.Round(time.Millisecond), len(det.Pairs), clock.UDPSilence().Round(time.Millisecond)))
	case ctx.Err() != nil && answered == 0 && !fresh:
		// The agent was still busy at the end: what its checks got is
		// unknown, which is no failure; the far end had answered.
		det.State = "checking"
		return classed(probe.ClassCanceled, fmt.Errorf("%w: the run's deadline ended ICE before a pair was selected; the agent was still busy "+
			"(on a slow path its relay permissions take round trips), so its %d pairs' answers could not be read in time",
			probe.ErrCutAfterAnswer, len(det.Pairs)))
	case ctx.Err() != nil && len(det.Pairs) == 0:
		det.State = "checking"
		return classed(probe.Classify(ctx.Err()), fmt.Errorf("%w: the check's deadline ended ICE before it concluded", ErrICEFailed))
	}
	if len(det.Pairs) == 0 {
		return classed(probe.ClassProtocol, fmt.Errorf("%w: no candidate pair to check (local %d, remote %d candidates)", ErrICEFailed, len(det.LocalCandidates), len(det.RemoteCandidates)))
	}
	if answered == 0 {
		return classed(probe.ClassTimeout, fmt.Errorf("%w: all %d candidate pairs timed out (no check was answered)", ErrICEFailed, len(det.Pairs)))
	}
	if ctx.Err() != nil {
		// Answers came back, but the run's deadline ended ICE before a
		// pair was selected: a slow path, unproven rather than failed.
		det.State = "checking"
		return classed(probe.ClassCanceled, fmt.Errorf("%w: the run's deadline ended ICE while %d of %d pairs had answered (none selected yet)",
			probe.ErrCutAfterAnswer, answered, len(det.Pairs)))
	}
	return classed(probe.ClassProtocol, fmt.Errorf("%w: %d of %d pairs answered but none was selected", ErrICEFailed, answered, len(det.Pairs)))
}

// media runs the media-like measurement on the connected pair with the
// peer echoing, bounded by cfg.Media and by ctx (minus a margin so the
// check still reports).
func (c *Checker) media(ctx context.Context, cfg *probe.Config, det *probe.ICEDetails, conn packetConn, echo func(context.Context)) {
	window := cfg.Media
	if window <= 0 {
		return
	}
	requested := window
	window, shrunk, skipped := probe.MediaWindow(ctx, cfg.Clock, window)
	if skipped != "" {
		det.Media = &probe.MediaStats{Codec: c.codec().Name, Skipped: skipped, RequestedS: requested.Seconds(), Transport: "udp"}
		return
	}
	ectx, ecancel := context.WithCancel(ctx)
	echoDone := make(chan struct{})
	if echo != nil {
		go func() {
			defer close(echoDone)
			echo(ectx)
		}()
	} else {
		close(echoDone)
	}
	st := measure(ctx, conn, window, c.codec())
	ecancel()
	<-echoDone
	if shrunk {
		st.RequestedS = requested.Seconds()
	}
	det.Media = st
}

// teardown is the time kept for the last statistics and closing the
// agents: two round trips of the path as measured, at most 1 s, and at
// least what an idle agent needs (statsGrace for the last snapshot, then
// closeReserve).
func teardown(c *probe.Clock) time.Duration {
	return min(max(2*c.SRTT(), statsGrace+closeReserve), time.Second)
}

// statsGrace is what the last snapshot of an idle agent takes at most
// (measured well under a millisecond): below it, a snapshot that missed
// statsBy means a busy agent, not a short allowance.
const statsGrace = 100 * time.Millisecond

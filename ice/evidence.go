package ice

import (
	"slices"
	"strings"
	"sync"
	"time"

	pice "github.com/pion/ice/v4"

	"github.com/ucprobe/ucprobe/probe"
)

// snapshot is the agent's pair and candidate statistics at one moment.
// pion clears them when ICE fails, so the watcher keeps the last one taken
// while they still existed.
type snapshot struct {
	pairs  []pice.CandidatePairStats
	local  []pice.CandidateStats
	remote []pice.CandidateStats
}

func takeSnapshot(a *pice.Agent) snapshot {
	return snapshot{pairs: a.GetCandidatePairsStats(), local: a.GetLocalCandidatesStats(), remote: a.GetRemoteCandidatesStats()}
}

// watcher follows one agent: its state changes, and a periodic snapshot
// of the statistics until it stops.
type watcher struct {
	agent     *pice.Agent
	mu        sync.Mutex
	last      snapshot
	state     pice.ConnectionState
	connected chan struct{}
	failed    chan struct{}
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once
	failOnce  sync.Once
	connOnce  sync.Once
}

func watch(a *pice.Agent, every time.Duration) (*watcher, error) {
	w := &watcher{agent: a, connected: make(chan struct{}), failed: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	err := a.OnConnectionStateChange(func(s pice.ConnectionState) {
		w.mu.Lock()
		w.state = s
		w.mu.Unlock()
		switch s {
		case pice.ConnectionStateConnected:
			w.connOnce.Do(func() { close(w.connected) })
		case pice.ConnectionStateFailed, pice.ConnectionStateClosed:
			w.failOnce.Do(func() { close(w.failed) })
		}
	})
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(w.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				select {
				case <-w.failed:
				default:
					w.take() // the last one
				}
				return
			case <-w.failed:
				return
			case <-t.C:
				w.take()
			}
		}
	}()
	return w, nil
}

// take keeps a snapshot unless ICE has failed (then the agent's lists
// are already empty).
func (w *watcher) take() {
	s := takeSnapshot(w.agent)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(s.pairs) >= len(w.last.pairs) || len(s.local)+len(s.remote) > len(w.last.local)+len(w.last.remote) {
		w.last = s
	}
}

// finish stops the periodic snapshots and returns the best one, with a
// last one taken unless ICE failed. It waits for that last one until
// `until` at most: the agent's task loop can be held for round trips (a
// relay candidate creating its permission over a slow path, inside the
// loop), and the check's teardown must fit its deadline. Past it the last
// periodic snapshot stands and fresh is false: its counters may lag.
// wait, after the agent closed, collects the watcher's goroutine.
func (w *watcher) finish(until time.Time) (s snapshot, fresh bool) {
	w.once.Do(func() { close(w.stop) })
	t := time.NewTimer(max(time.Until(until), 0))
	defer t.Stop()
	select {
	case <-w.done: // an idle agent: the last snapshot is in
		fresh = true
	case <-t.C:
		select {
		case <-w.done: // (both were ready: the snapshot wins)
			fresh = true
		default:
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, fresh
}

// wait returns once the watcher's goroutine has ended. Call it after the
// agent closed: that ends a snapshot in flight.
func (w *watcher) wait() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

func (w *watcher) stateName() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.ToLower(w.state.String())
}

func candidateOf(c pice.CandidateStats) probe.ICECandidate {
	return probe.ICECandidate{
		ID: c.ID, Type: probe.CandidateType(c.CandidateType.String()), Protocol: c.NetworkType.NetworkShort(),
		Address: c.IP, Port: c.Port, RelayProtocol: strings.ToLower(c.RelayProtocol),
	}
}

func candidates(cs []pice.CandidateStats) []probe.ICECandidate {
	out := make([]probe.ICECandidate, 0, len(cs))
	for _, c := range cs {
		out = append(out, candidateOf(c))
	}
	slices.SortStableFunc(out, func(a, b probe.ICECandidate) int { return typeRank(a.Type) - typeRank(b.Type) })
	return out
}

func typeRank(t probe.CandidateType) int {
	switch t {
	case probe.CandidateHost:
		return 0
	case probe.CandidateSrflx:
		return 1
	case probe.CandidatePrflx:
		return 2
	}
	return 3
}

// pairTable joins pair statistics with candidate statistics (pion's pair
// stats carry only candidate ids) and marks the selected pair.
func pairTable(s snapshot, selLocal, selRemote string) ([]probe.ICEPair, *probe.ICEPair) {
	local := map[string]probe.ICECandidate{}
	for _, c := range s.local {
		local[c.ID] = candidateOf(c)
	}
	remote := map[string]probe.ICECandidate{}
	for _, c := range s.remote {
		remote[c.ID] = candidateOf(c)
	}
	var sel *probe.ICEPair
	out := make([]probe.ICEPair, 0, len(s.pairs))
	for _, p := range s.pairs {
		row := probe.ICEPair{
			Local: local[p.LocalCandidateID], Remote: remote[p.RemoteCandidateID],
			State: probe.PairState(p.State.String()), RequestsSent: p.RequestsSent, ResponsesReceived: p.ResponsesReceived,
			Nominated: p.Nominated,
			Selected:  p.LocalCandidateID == selLocal && p.RemoteCandidateID == selRemote && selLocal != "",
		}
		if row.Local.ID == "" {
			row.Local.ID = p.LocalCandidateID
		}
		if row.Remote.ID == "" {
			row.Remote.ID = p.RemoteCandidateID
		}
		if p.CurrentRoundTripTime > 0 {
			row.RTTMS = round(p.CurrentRoundTripTime*1000, 3)
		}
		out = append(out, row)
	}
	// Selected first, then succeeded, then by candidate types.
	slices.SortStableFunc(out, func(a, b probe.ICEPair) int {
		if d := pairRank(a) - pairRank(b); d != 0 {
			return d
		}
		return typeRank(a.Local.Type)*4 + typeRank(a.Remote.Type) - typeRank(b.Local.Type)*4 - typeRank(b.Remote.Type)
	})
	for i := range out {
		if out[i].Selected {
			c := out[i]
			sel = &c
		}
	}
	return out, sel
}

func pairRank(p probe.ICEPair) int {
	switch {
	case p.Selected:
		return 0
	case p.State == probe.PairSucceeded:
		return 1
	case p.State == "failed":
		return 3
	}
	return 2
}

// via names the selected path: the local candidate's type, and for a
// relay the transport to the TURN server.
func via(p *probe.ICEPair) string {
	if p == nil {
		return ""
	}
	for _, c := range []probe.ICECandidate{p.Local, p.Remote} {
		if c.Type == probe.CandidateRelay && c.RelayProtocol != "" && c.RelayProtocol != "udp" {
			return "relay/" + c.RelayProtocol
		}
	}
	if p.Local.Type == probe.CandidateRelay {
		return "relay/" + cmpOr(p.Local.RelayProtocol, "udp")
	}
	if p.Remote.Type == probe.CandidateRelay {
		return "relay/" + cmpOr(p.Remote.RelayProtocol, "udp")
	}
	return string(p.Local.Type)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package responder

import (
	"net/netip"
	"slices"
	"sync"
	"time"
)

// outcome is what became of a probe that arrived and authenticated.
type outcome int

const (
	answered outcome = iota
	rateLimited
	tooLarge // the answer would have been larger than the request
)

// ledger remembers which probes arrived: per session (the receipts a
// client fetches) and per client address (the summary `ucprobe serve`
// prints on exit). Both tables are bounded LRUs, so memory does not grow
// with what strangers send; no source (sourceKey) holds more than
// perSource sessions, so one source cannot push the others' receipts out.
type ledger struct {
	mu        sync.Mutex
	ttl       time.Duration
	now       func() time.Time
	sessions  *lru[string, *sessionLog]
	clients   *lru[netip.Addr, *clientLog]
	perSource int
	// owned lists each source's sessions, oldest first.
	owned map[netip.Prefix][]string
	// gone remembers sessions dropped for room, so a client whose receipt
	// is gone is told so instead of reading "nothing arrived".
	gone *lru[string, struct{}]
	// evicted counts sessions dropped for room (not for age), quota those
	// a source's own newer session replaced.
	evicted, quota uint64
	// seq orders touches, so a source's least recently used session is
	// the one its quota gives up.
	seq uint64
}

type sessionLog struct {
	owner       netip.Prefix
	touched     uint64
	ports       portSet
	clients     []netip.Addr
	received    int
	answered    int
	rateLimited int
	last        time.Time
}

type clientLog struct {
	ports       portSet
	received    int
	answered    int
	rateLimited int
	tcp         int
}

func newLedger(maxSessions, perSource, maxClients int, ttl time.Duration) *ledger {
	return &ledger{ttl: ttl, now: time.Now, perSource: perSource,
		sessions: newLRU[string, *sessionLog](maxSessions),
		clients:  newLRU[netip.Addr, *clientLog](maxClients),
		owned:    map[netip.Prefix][]string{},
		gone:     newLRU[string, struct{}](maxSessions)}
}

// record files one probe to port from ip under session ("" for a plain
// STUN request, which only the client summary sees). A rate-limited probe
// counts in its session but never creates one: what a flood costs is
// the flood's own budget.
func (l *ledger) record(session string, ip netip.Addr, port uint16, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c, ok := l.clients.get(ip)
	if !ok {
		c = &clientLog{}
		l.clients.add(ip, c)
	}
	c.ports.add(port)
	c.received++
	switch o {
	case answered:
		c.answered++
	case rateLimited:
		c.rateLimited++
	}
	if session == "" {
		return
	}
	l.expire(now)
	s, ok := l.sessions.get(session)
	if !ok {
		if o == rateLimited {
			return
		}
		s = l.create(session, sourceKey(ip))
	}
	s.last = now
	l.seq++
	s.touched = l.seq
	s.ports.add(port)
	s.received++
	switch o {
	case answered:
		s.answered++
	case rateLimited:
		s.rateLimited++
	}
	if !slices.Contains(s.clients, ip) && len(s.clients) < maxReceiptClients {
		s.clients = append(s.clients, ip)
	}
}

// create files a new session of src: past its quota, src's own least
// recently used session makes room; a full table drops the least
// recently used one of all.
func (l *ledger) create(id string, src netip.Prefix) *sessionLog {
	if own := l.owned[src]; len(own) >= l.perSource {
		l.quota++
		l.drop(l.leastRecent(own))
	}
	s := &sessionLog{owner: src}
	if k, v, evicted := l.sessions.addEvict(id, s); evicted {
		l.forget(k, v)
		l.remember(k)
	}
	l.gone.remove(id)
	l.owned[src] = append(l.owned[src], id)
	return s
}

// leastRecent is the least recently touched of ids (a scan of one
// source's quota, only when that source is over it).
func (l *ledger) leastRecent(ids []string) string {
	best, bestSeq := ids[0], uint64(1<<64-1)
	for _, id := range ids {
		if s, ok := l.sessions.peek(id); ok && s.touched < bestSeq {
			best, bestSeq = id, s.touched
		}
	}
	return best
}

// drop evicts a session for room.
func (l *ledger) drop(id string) {
	if s, ok := l.sessions.peek(id); ok {
		l.sessions.remove(id)
		l.forget(id, s)
		l.remember(id)
	}
}

func (l *ledger) remember(id string) {
	l.evicted++
	if _, ok := l.gone.peek(id); !ok {
		l.gone.add(id, struct{}{})
	}
}

// forget takes a removed session off its owner's list.
func (l *ledger) forget(id string, s *sessionLog) {
	own := slices.DeleteFunc(l.owned[s.owner], func(x string) bool { return x == id })
	if len(own) == 0 {
		delete(l.owned, s.owner)
		return
	}
	l.owned[s.owner] = own
}

// evictions returns the sessions dropped for room, and of them those a
// source's own newer session replaced.
func (l *ledger) evictions() (total, quota uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.evicted, l.quota
}

// recordTCP counts an accepted TCP connection in the client summary.
func (l *ledger) recordTCP(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients.get(ip)
	if !ok {
		c = &clientLog{}
		l.clients.add(ip, c)
	}
	c.tcp++
}

// expire drops sessions idle for longer than the TTL. The LRU's back is
// the least recently used, so it stops at the first fresh one.
func (l *ledger) expire(now time.Time) {
	for {
		k, s, ok := l.sessions.oldest()
		if !ok || now.Sub(s.last) <= l.ttl {
			return
		}
		l.sessions.remove(k)
		l.forget(k, s)
	}
}

// receiptState says what the ledger knows of a session.
type receiptState int

const (
	receiptFound   receiptState = iota
	receiptUnknown              // never seen, or expired
	receiptEvicted              // dropped to make room for other sessions
)

// receipt returns the session's receipt, or why there is none.
func (l *ledger) receipt(session string) (Receipt, receiptState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(l.now())
	s, ok := l.sessions.peek(session)
	if !ok {
		if _, gone := l.gone.peek(session); gone {
			return Receipt{}, receiptEvicted
		}
		return Receipt{}, receiptUnknown
	}
	r := Receipt{Session: session, Clients: make([]string, len(s.clients)), Ports: s.ports.spans(),
		Received: s.received, Answered: s.answered, RateLimited: s.rateLimited}
	for i, ip := range s.clients {
		r.Clients[i] = ip.String()
	}
	if r.Ports == nil {
		r.Ports = []Span{}
	}
	return r, receiptFound
}

// ClientSummary is what one client address did, for the exit line of
// `ucprobe serve`.
type ClientSummary struct {
	IP          string `json:"ip"`
	Ports       []Span `json:"ports"` // UDP ports its probes reached
	Received    int    `json:"received"`
	Answered    int    `json:"answered"`
	RateLimited int    `json:"rate_limited"`
	// Probes whose answer would have been larger than they were are in
	// Received but neither Answered nor RateLimited.
	TCP int `json:"tcp"` // TCP connections accepted
}

func (l *ledger) summary() []ClientSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ClientSummary
	l.clients.each(func(ip netip.Addr, c *clientLog) {
		out = append(out, ClientSummary{IP: ip.String(), Ports: c.ports.spans(),
			Received: c.received, Answered: c.answered, RateLimited: c.rateLimited, TCP: c.tcp})
	})
	slices.SortFunc(out, func(a, b ClientSummary) int {
		return netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP))
	})
	return out
}

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
// with what strangers send.
type ledger struct {
	mu       sync.Mutex
	ttl      time.Duration
	now      func() time.Time
	sessions *lru[string, *sessionLog]
	clients  *lru[netip.Addr, *clientLog]
	// evicted counts sessions dropped for room (not for age): a client
	// whose receipt is gone can say why.
	evictedSessions int
}

type sessionLog struct {
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

func newLedger(maxSessions, maxClients int, ttl time.Duration) *ledger {
	return &ledger{ttl: ttl, now: time.Now,
		sessions: newLRU[string, *sessionLog](maxSessions),
		clients:  newLRU[netip.Addr, *clientLog](maxClients)}
}

// record files one probe to port from ip under session ("" for a plain
// STUN request, which only the client summary sees).
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
		s = &sessionLog{}
		if l.sessions.add(session, s) {
			l.evictedSessions++
		}
	}
	s.last = now
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
	}
}

// receipt returns the session's receipt, or false when unknown (never
// seen, expired or evicted).
func (l *ledger) receipt(session string) (Receipt, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(l.now())
	s, ok := l.sessions.peek(session)
	if !ok {
		return Receipt{}, false
	}
	r := Receipt{Session: session, Clients: make([]string, len(s.clients)), Ports: s.ports.spans(),
		Received: s.received, Answered: s.answered, RateLimited: s.rateLimited}
	for i, ip := range s.clients {
		r.Clients[i] = ip.String()
	}
	if r.Ports == nil {
		r.Ports = []Span{}
	}
	return r, true
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

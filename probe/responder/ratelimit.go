package responder

import (
	"net/netip"
	"sync"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per source address plus one for everybody:
// the per-source bucket keeps one client from starving the others, the
// global one caps what the responder sends in total, whatever the number
// of (possibly spoofed) sources.
type limiter struct {
	mu        sync.Mutex
	perSource rate.Limit
	burst     int
	sources   *lru[netip.Prefix, *rate.Limiter]
	global    *rate.Limiter
}

func limitOf(pps float64) rate.Limit {
	if pps < 0 {
		return rate.Inf
	}
	return rate.Limit(pps)
}

func newLimiter(r RateLimits, maxSources int) *limiter {
	// A quarter second of the global rate absorbs several clients'
	// bursts at once, and never less than one client's burst.
	gburst := max(r.PerSourceBurst, int(r.Global/4))
	return &limiter{perSource: limitOf(r.PerSource), burst: r.PerSourceBurst,
		sources: newLRU[netip.Prefix, *rate.Limiter](maxSources),
		global:  rate.NewLimiter(limitOf(r.Global), gburst)}
}

// allow takes a token from ip's source bucket (sourceKey) and from the
// global one.
func (l *limiter) allow(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := sourceKey(ip)
	src, ok := l.sources.get(k)
	if !ok {
		src = rate.NewLimiter(l.perSource, l.burst)
		l.sources.add(k, src)
	}
	return src.Allow() && l.global.Allow()
}

// SourceKey is what one source is for the limits and quotas: an IPv4
// address, or the /64 of an IPv6 one (a single host usually holds a whole
// /64 and can rotate through it freely).
func SourceKey(ip netip.Addr) netip.Prefix { return sourceKey(ip) }

func sourceKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

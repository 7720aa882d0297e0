package probe

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// A Clock is one run's sense of time: its deadline, and the round trip of
// the client's paths as measured so far in the run (TCP handshakes, STUN
// answers). Every wait for an answer derives from it: a silence is judged
// only after the bound such a path needs (RFC 6298: SRTT + 4 RTTVAR),
// never after a fixed per-kind default. The runner makes one per run;
// probes use Config.Clock, and a nil Clock (a probe called on its own)
// gives the bounds of a path nothing has been measured on.
type Clock struct {
	mu      sync.Mutex
	srtt    time.Duration
	rttvar  time.Duration
	n       int
	samples []rttSample // in arrival order, at most maxSamples
}

type rttSample struct {
	dest string // the host (IP) the round trip went to
	rtt  time.Duration
}

const maxSamples = 256

// Bounds of the retransmission timeout. RFC 6298 asks for 1 s before any
// sample; a diagnostic run has seconds, so the first guess is 500 ms and
// the floor 100 ms (a LAN's handshake takes a millisecond; a server's
// scheduling can take tens).
const (
	InitialRTO = 500 * time.Millisecond
	MinRTO     = 100 * time.Millisecond
	MaxRTO     = 2 * time.Second
)

// Transmissions is how many times a silent UDP request is sent (first RTO,
// then doubling) before its silence counts: 3 lose to random loss of 10 %
// one time in a thousand.
const Transmissions = 3

// SYNRetry is when the kernel sends its second SYN (Linux TCP_TIMEOUT_INIT);
// a connect is judged silent only after that second SYN had its round trip.
const SYNRetry = time.Second

// Observe adds one round-trip sample to host dest (RFC 6298 section 2;
// Karn: callers give only samples of requests sent once).
func (c *Clock) Observe(dest string, rtt time.Duration) {
	if c == nil || rtt <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		c.srtt, c.rttvar = rtt, rtt/2
	} else {
		d := c.srtt - rtt
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + rtt) / 8
	}
	c.n++
	if len(c.samples) < maxSamples {
		c.samples = append(c.samples, rttSample{dest, rtt})
	}
}

// PathRTT is what the run's round-trip samples (TCP handshakes, first-try
// STUN answers) say about the path: quality evidence that needs no media
// stream.
type PathRTT struct {
	Samples int `json:"samples"`
	// RTTMS is the median round trip.
	RTTMS float64 `json:"rtt_ms"`
	// JitterMS is the median difference between consecutive samples to
	// the same host (paths to different hosts differ by design); 0 with
	// fewer than minJitterDiffs such differences.
	JitterMS float64 `json:"jitter_ms"`
}

const minJitterDiffs = 2

// Path summarises the samples so far.
func (c *Clock) Path() PathRTT {
	if c == nil {
		return PathRTT{}
	}
	c.mu.Lock()
	s := slices.Clone(c.samples)
	c.mu.Unlock()
	p := PathRTT{Samples: len(s)}
	if len(s) == 0 {
		return p
	}
	var all, diffs []time.Duration
	last := map[string]time.Duration{}
	for _, x := range s {
		all = append(all, x.rtt)
		if prev, ok := last[x.dest]; ok {
			diffs = append(diffs, max(x.rtt-prev, prev-x.rtt))
		}
		last[x.dest] = x.rtt
	}
	if len(diffs) >= minJitterDiffs {
		p.JitterMS = ms(median(diffs))
	}
	p.RTTMS = ms(median(all))
	return p
}

func median(s []time.Duration) time.Duration {
	s = slices.Clone(s)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// RTO is the current retransmission timeout: SRTT + 4 RTTVAR within
// [MinRTO, MaxRTO], InitialRTO before any sample.
func (c *Clock) RTO() time.Duration {
	if c == nil {
		return InitialRTO
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return InitialRTO
	}
	return min(max(c.srtt+4*c.rttvar, MinRTO), MaxRTO)
}

// SRTT is the smoothed round trip (0 before any sample).
func (c *Clock) SRTT() time.Duration {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srtt
}

// UDPSilence is how long a UDP request gets before its silence counts:
// Transmissions sends with doubling waits. It follows the estimate, so a
// caller asks again when a wait ends (samples may have come in meanwhile).
func (c *Clock) UDPSilence() time.Duration {
	return c.RTO() * (1<<Transmissions - 1)
}

// TCPSilence is how long a TCP connect gets: the second SYN and two
// timeouts of round trip after it.
func (c *Clock) TCPSilence() time.Duration {
	return SYNRetry + 2*c.RTO()
}

// Schedule is the UDP retransmission schedule at the current estimate.
func (c *Clock) Schedule() Retransmit {
	rto := c.RTO()
	return Retransmit{RTO: rto, MaxRTO: 4 * rto}
}

// MinUDPSilence and MinTCPSilence are the bounds on the fastest path: the
// least a run's deadline must leave a check for its silence to mean
// anything.
const (
	MinUDPSilence = MinRTO * (1<<Transmissions - 1)
	MinTCPSilence = SYNRetry + 2*MinRTO
)

// DialTCP connects with the connect bounded by the clock's TCP silence
// bound (ctx may end it earlier), and feeds the handshake's round trip to
// the clock. A connect that ends on that bound is a timeout of its own,
// not ctx's end.
func (c *Clock) DialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.TCPSilence())
	defer cancel()
	var d net.Dialer
	start := time.Now()
	conn, err := d.DialContext(dctx, network, addr)
	if err == nil {
		host, _, _ := net.SplitHostPort(addr)
		c.Observe(host, time.Since(start))
	}
	return conn, err
}

// NoDeadlineBound ends a check of a run without a deadline (a probe's own
// silence bounds end it much sooner on a dead path).
const NoDeadlineBound = 60 * time.Second

// minDNSNeed is the least a name lookup needs: resolv.conf's default
// timeout:1 for one try.
const minDNSNeed = time.Second

// MinDeadline is the least run deadline with which every check of specs
// can conclude: name lookups first, then the slowest check, then the
// diagnosis' margin.
func MinDeadline(specs []Spec, margin time.Duration) time.Duration {
	need := MinTCPSilence
	for _, s := range specs {
		need = max(need, registry[s.Kind].MinNeed)
	}
	return (minDNSNeed + need + margin).Round(100 * time.Millisecond)
}

// MinMediaWindow is the shortest media window that can be graded: 50
// packets at 20 ms, so one lost packet is 2 % and jitter has a spread.
const MinMediaWindow = time.Second

// MediaWindow fits the requested media window into what ctx leaves, less
// the grace for late echoes (3 round trips, at least 200 ms) and the
// reporting. It says whether the window shrank, and why it is skipped
// (empty when it runs): a window below MinMediaWindow grades nothing.
func MediaWindow(ctx context.Context, clock *Clock, requested time.Duration) (window time.Duration, shrunk bool, skipped string) {
	dl, bounded := ctx.Deadline()
	return fitMediaWindow(requested, time.Until(dl), bounded, clock)
}

// fitMediaWindow is MediaWindow with the time left until the deadline
// given (bounded false: no deadline).
func fitMediaWindow(requested, untilDeadline time.Duration, bounded bool, clock *Clock) (window time.Duration, shrunk bool, skipped string) {
	window = requested
	if bounded {
		left := untilDeadline - max(200*time.Millisecond, 3*clock.SRTT()) - 100*time.Millisecond
		if left < window {
			window, shrunk = max(left, 0), true
		}
	}
	if window < MinMediaWindow {
		return 0, shrunk, fmt.Sprintf("the run's deadline left %s for the media window, less than the %s a grade needs (a longer --timeout measures it)",
			window.Round(10*time.Millisecond), MinMediaWindow)
	}
	return window.Truncate(10 * time.Millisecond), shrunk, ""
}

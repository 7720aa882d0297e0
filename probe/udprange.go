package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

func init() {
	RegisterKind(KindInfo{Kind: KindUDPRange, Prober: UDPRange, PerAddress: true, NeedsPort: true, Over: TransportUDP,
		MinNeed: MinTCPSilence + MinUDPSilence})
}

// Port states of a UDP sweep.
const (
	PortOpen        = "open"        // answered
	PortClosed      = "closed"      // ICMP port unreachable: the packet reached the host
	PortProhibited  = "prohibited"  // ICMP administratively prohibited, or the local firewall refused to send
	PortUnreachable = "unreachable" // ICMP net/host unreachable, or no route
	PortFiltered    = "filtered"    // silence
	// PortNotServed: the responder says it does not listen there (in use
	// on its side, or outside its --udp): not evidence of a block.
	PortNotServed = "not-served"
)

// Directions of a silent sub-range, known from the responder's receipts.
const (
	DirInbound = "inbound" // the probe never arrived at the responder
	DirReturn  = "return"  // the probe arrived; the answer was lost on the way back
)

// UDPRangeDetails is the evidence of a UDP port-range sweep.
type UDPRangeDetails struct {
	Ranges string `json:"ranges"`
	// Ports is the number of ports swept (ports with a state); Planned is
	// how many the check meant to sweep (a deadline can cut it short).
	Ports       int  `json:"ports"`
	Planned     int  `json:"planned"`
	Sampled     bool `json:"sampled,omitempty"`
	Open        int  `json:"open"`
	Closed      int  `json:"closed"`
	Prohibited  int  `json:"prohibited"`
	Unreachable int  `json:"unreachable,omitempty"`
	Filtered    int  `json:"filtered"`
	NotServed   int  `json:"not_served,omitempty"`
	// SubRanges compress per-port states into runs, in port order.
	SubRanges []UDPSubRange `json:"sub_ranges"`
	// Responder says what answered at the far end: "ucprobe" (answers
	// carried our session), "stun" (a plain STUN server) or "none".
	Responder string `json:"responder"`
	// Receipts is true when the responder's receipts were fetched, so the
	// direction of a block is known rather than guessed.
	Receipts      bool   `json:"receipts"`
	ReceiptsError string `json:"receipts_error,omitempty"`
	// TokenRefused: the responder refused our token, so its silence is
	// no evidence of a block (class auth).
	TokenRefused bool `json:"token_refused,omitempty"`
	// ReceiptLost: the responder knew this sweep's session but no longer
	// holds its receipt (evicted for room, or restarted), so which probes
	// arrived is unknown: not evidence of a blocked inbound path.
	ReceiptLost bool `json:"receipt_lost,omitempty"`
	// Arrived is how many swept ports the responder saw a probe on.
	Arrived int `json:"arrived,omitempty"`
	// RateLimited counts probes the responder did not answer because of
	// its rate limit (their silence is not a block).
	RateLimited int    `json:"rate_limited,omitempty"`
	LocalAddr   string `json:"local_addr,omitempty"`
	LocalRange  string `json:"local_range,omitempty"`
	// Sent counts requests including retransmissions; Rounds is how many
	// passes over the silent ports were made.
	Sent       int     `json:"sent"`
	Rounds     int     `json:"rounds"`
	RatePPS    int     `json:"rate_pps"`
	RTTMedian  float64 `json:"rtt_median_ms,omitempty"`
	RTTMax     float64 `json:"rtt_max_ms,omitempty"`
	Asymmetric int     `json:"asymmetric,omitempty"` // answers from another address than the one asked
	// Inconclusive: no responder and no answer at all; silence from a
	// server that may not answer there proves nothing.
	Inconclusive bool `json:"inconclusive,omitempty"`
	// Live is the judgement of a sample taken without a responder
	// (udprange_live.go).
	Live *UDPLiveDetails `json:"live,omitempty"`
}

// UDPSubRange is a run of ports with one state. Direction, known from the
// responder's receipts, is "inbound" (never arrived) or "return" (arrived,
// answer lost).
type UDPSubRange struct {
	Range     PortRange `json:"range"`
	State     string    `json:"state"`
	Direction string    `json:"direction,omitempty"`
	Ports     int       `json:"ports"` // swept ports in the run (fewer than Range.Len() when sampled)
}

// String is "31000-33000 filtered (inbound)".
func (s UDPSubRange) String() string {
	out := s.Range.String() + " " + s.State
	if s.Direction != "" {
		out += " (" + s.Direction + ")"
	}
	return out
}

// Sweep knobs.
const (
	// DefaultSweepRate paces the sweep (packets per second, retransmissions
	// included). 25,000/s sweeps 3,001 ports in about 120 ms while staying
	// far below what a site link or the responder's per-source limit
	// (30,000/s) minds.
	DefaultSweepRate = 25000
	// sweepRounds bounds the passes over silent ports: at 5 % loss each
	// way a round trip fails 9.75 % of the time, 8 tries leave about 1 in
	// 120 million ports wrongly silent (6 tries: 1 in 1.2 million, one
	// port in about 400 sweeps of 3,001). A blocked range costs no more:
	// it stops after sweepIdleRounds.
	sweepRounds = 8
	// A sweep stops retrying after this many rounds that brought no new
	// answer: a filtered block stays silent, a lossy path does not.
	sweepIdleRounds = 2
	minRoundWait    = 60 * time.Millisecond
	maxRoundWait    = 400 * time.Millisecond
	// silentRoundWait is the wait while nothing has answered yet, so no
	// RTT is known.
	silentRoundWait = 250 * time.Millisecond
	// receiptReserve is kept from the check's deadline to fetch receipts.
	receiptReserve = 400 * time.Millisecond
)

// ErrLocalPorts: no local port in the configured range could be bound.
var ErrLocalPorts = errors.New("no free local port in the range")

// UDPRange sweeps every port of spec.Ranges (or a stratified sample of
// spec.Sample ports, both edges included) with padded STUN Binding
// requests from one local socket, retransmitting silent ports, and then
// asks the responder (cfg.Responder) which probes arrived, so a silent
// port is "never arrived" or "answer lost". Any STUN server can be the far
// end; only ucprobe's responder gives receipts.
func UDPRange(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	start := time.Now()
	ports, sampled := sweepPorts(spec.Ranges, spec.Sample)
	det := &UDPRangeDetails{Ranges: FormatRanges(spec.Ranges), Planned: len(ports), Sampled: sampled, Responder: "none"}
	res.Details.UDPRange = det
	if spec.LocalRange != nil {
		det.LocalRange = spec.LocalRange.String()
	}
	if len(ports) == 0 {
		res.Fail(ClassProtocol, errors.New("no ports to sweep"))
		return res
	}
	target, err := resolveUDP(ctx, cfg, spec)
	if err != nil {
		res.Fail(Classify(err), err)
		return res
	}
	if spec.NeedsResponder && cfg.Responder == "" {
		udpRangeLive(ctx, spec, cfg, target.Addr(), &res)
		res.DurationMS = ms(time.Since(start))
		return res
	}
	rate := cfg.SweepRate
	if rate <= 0 {
		rate = DefaultSweepRate
	}
	det.RatePPS = rate

	sweepCtx := ctx
	if dl, ok := ctx.Deadline(); ok && cfg.Responder != "" {
		reserve := min(receiptReserve, time.Until(dl)/4)
		var cancel context.CancelFunc
		sweepCtx, cancel = context.WithDeadline(ctx, dl.Add(-reserve))
		defer cancel()
	}
	sw, err := newSweeper(target.Addr(), ports, spec.LocalRange, cfg, rate)
	if err != nil {
		res.Fail(Classify(err), err)
		if res.Class == ClassNone {
			res.Class = ClassProtocol
		}
		return res
	}
	det.LocalAddr = sw.local.String()
	sw.run(sweepCtx)
	sw.close()
	det.Sent, det.Rounds, det.Asymmetric = sw.sent, sw.rounds, sw.asymmetric
	det.RTTMedian, det.RTTMax = sw.rttStats()
	if sw.sessionSeen {
		det.Responder = "ucprobe"
	} else if sw.answered > 0 {
		det.Responder = "stun"
	}

	if cfg.Responder != "" {
		fetchReceipts(ctx, spec, cfg, sw, det)
	}
	summarize(sw, det, spec.Ranges)
	res.DurationMS = ms(time.Since(start))
	judgeSweep(&res, spec, det, cfg)
	if cfg.Logger != nil {
		cfg.Logger.Debug("udp-range", "check", spec.ID, "target", target.Addr(), "ports", det.Ports, "open", det.Open,
			"filtered", det.Filtered, "closed", det.Closed, "sent", det.Sent, "rounds", det.Rounds, "receipts", det.Receipts)
	}
	return res
}

// judgeSweep sets the status and class from the port counts. The class of
// a partly or wholly blocked range is that of its most common non-open
// state (silence: timeout).
func judgeSweep(res *Result, spec Spec, det *UDPRangeDetails, cfg *Config) {
	if det.Ports == 0 {
		*res = Canceled(spec, "the run ended before any port was swept")
		return
	}
	if det.TokenRefused && det.Open == 0 {
		res.Fail(ClassAuth, fmt.Errorf("the responder refused the token (--token), so it stayed silent: the sweep proves nothing"))
		return
	}
	// A closed port (ICMP port unreachable) proves the packet reached the
	// host. Without receipts that is all a sweep of a live server can
	// prove (nothing listens on an idle RTP port); only where the
	// responder says it serves the port is "closed" a fault.
	closed := 0
	if det.Receipts {
		closed = det.Closed
	}
	blocked := closed + det.Prohibited + det.Unreachable + det.Filtered
	if blocked == 0 {
		return
	}
	if cfg.Responder == "" && det.Prohibited+det.Unreachable == 0 {
		// DESIGN: without a responder, silence proves nothing (a live
		// server need not answer STUN there); only ICMP does.
		det.Inconclusive = true
		res.Status = StatusWarn
		res.Error = fmt.Sprintf("inconclusive: no answer on %d ports, and no ucprobe responder at the far end to tell a block from a server that does not answer there", det.Filtered)
		return
	}
	class, n := ClassTimeout, det.Filtered
	for _, c := range []struct {
		class ErrorClass
		n     int
	}{{ClassProhibited, det.Prohibited}, {ClassUnreachable, det.Unreachable}, {ClassRefused, closed}} {
		if c.n > n {
			class, n = c.class, c.n
		}
	}
	var parts []string
	for _, s := range det.SubRanges {
		if s.State == PortOpen || s.State == PortNotServed || s.State == PortClosed && !det.Receipts {
			continue
		}
		parts = append(parts, s.String())
	}
	if len(parts) > 6 {
		parts = append(parts[:6], fmt.Sprintf("and %d more", len(parts)-6))
	}
	res.Fail(class, fmt.Errorf("%d of %d ports did not answer: %s", blocked, det.Ports, strings.Join(parts, ", ")))
}

// sweepPorts lists the ports to sweep in port order. With sample > 0 and
// more ports than that, it takes both edges of every range and evenly
// spaced ports in between, in proportion to each range's size.
func sweepPorts(ranges []PortRange, sample int) ([]uint16, bool) {
	total := CountPorts(ranges)
	var out []uint16
	if sample <= 0 || total <= sample {
		for _, r := range ranges {
			for p := int(r.First); p <= int(r.Last); p++ {
				out = append(out, uint16(p))
			}
		}
		return out, false
	}
	for _, r := range ranges {
		k := max(sample*r.Len()/total, min(2, r.Len()))
		if k >= r.Len() {
			for p := int(r.First); p <= int(r.Last); p++ {
				out = append(out, uint16(p))
			}
			continue
		}
		step := float64(r.Len()-1) / float64(max(k-1, 1))
		for i := range k {
			p := uint16(int(r.First) + int(float64(i)*step+0.5))
			if len(out) == 0 || out[len(out)-1] != p {
				out = append(out, p)
			}
		}
		if out[len(out)-1] != r.Last {
			out = append(out, r.Last)
		}
	}
	return out, true
}

// bindLocal opens the sweep's socket: on an ephemeral port, or on a random
// free port inside local (the client's media range, so a local firewall
// rule on it is exercised too).
func bindLocal(target netip.Addr, local *PortRange) (*net.UDPConn, error) {
	network, any := "udp4", netip.IPv4Unspecified()
	if target.Is6() {
		network, any = "udp6", netip.IPv6Unspecified()
	}
	if local == nil {
		return net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(any, 0)))
	}
	var last error
	for range 32 {
		p := uint16(int(local.First) + rand.IntN(local.Len()))
		c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(any, p)))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, fmt.Errorf("%w %s: %v", ErrLocalPorts, local, last)
}

// compress turns per-port states into runs. Runs break where the state or
// direction changes and between declared ranges.
func compress(ports []uint16, state []string, dir []string, ranges []PortRange) []UDPSubRange {
	var out []UDPSubRange
	rangeOf := func(p uint16) int {
		return slices.IndexFunc(ranges, func(r PortRange) bool { return r.Contains(p) })
	}
	prev := -2
	for i, p := range ports {
		if state[i] == "" {
			continue // left untested by the deadline: breaks the run
		}
		adjacent := prev == i-1
		prev = i
		if n := len(out); n > 0 && adjacent {
			last := &out[n-1]
			if last.State == state[i] && last.Direction == dir[i] && rangeOf(last.Range.Last) == rangeOf(p) {
				last.Range.Last = p
				last.Ports++
				continue
			}
		}
		out = append(out, UDPSubRange{Range: PortRange{First: p, Last: p}, State: state[i], Direction: dir[i], Ports: 1})
	}
	return out
}

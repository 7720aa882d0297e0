package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v4"
)

// recConn records what the server sent, for evidence pion does not
// expose: the error code of any response, the XOR-MAPPED-ADDRESS, LIFETIME
// and SOFTWARE of the Allocate success, the time of the first answer, and
// datagrams that are not STUN at all.
type recConn struct {
	net.PacketConn

	mu        sync.Mutex
	firstSent time.Time
	firstRecv time.Time
	last      *stun.Message // last Allocate response
	err       error
	answers   int
	notSTUN   int
	failed    chan struct{}
	closeOnce sync.Once
	failOnce  sync.Once
}

func (r *recConn) WriteTo(b []byte, to net.Addr) (int, error) {
	r.mu.Lock()
	if r.firstSent.IsZero() {
		r.firstSent = time.Now()
	}
	r.mu.Unlock()
	return r.PacketConn.WriteTo(b, to)
}

func (r *recConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := r.PacketConn.ReadFrom(b)
		if err != nil {
			r.fail(err)
			return n, from, err
		}
		m, channelData := turnDatagram(b[:n])
		if m == nil && !channelData {
			// pion stops its read loop on what it cannot parse; a server
			// that never spoke STUN is the wrong service: fail now.
			r.mu.Lock()
			r.notSTUN++
			wrong := r.answers == 0
			r.mu.Unlock()
			if wrong {
				r.fail(fmt.Errorf("%w (%d bytes from %s)", ErrNotSTUN, n, from))
			}
			continue
		}
		if m != nil {
			{
				r.mu.Lock()
				r.answers++
				if r.firstRecv.IsZero() {
					r.firstRecv = time.Now()
				}
				if m.Type.Method == stun.MethodAllocate || m.Type.Class == stun.ClassErrorResponse {
					r.last = m
				}
				r.mu.Unlock()
			}
		}
		return n, from, nil
	}
}

func (r *recConn) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.failOnce.Do(func() { close(r.failed) })
}

// flush copies the counters into det once the check is over.
func (r *recConn) flush(det *TURNDetails) {
	r.mu.Lock()
	defer r.mu.Unlock()
	det.Answers, det.NotSTUN = r.answers, r.notSTUN
}

// silenceWatch fails the session when nothing at all came back within the
// run's UDP silence bound from the first request (the bound follows the
// round trips measured meanwhile). Any answer ends the watch: later
// slowness is the check's to measure, not a block. It returns with ctx.
func (r *recConn) silenceWatch(ctx context.Context, clock *Clock, raddr netip.AddrPort, tr Transport) {
	// Look again at least every RTO: round trips measured meanwhile
	// (a TCP handshake elsewhere in the run) shorten the bound.
	t := time.NewTimer(clock.RTO())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		sent, answered := r.firstSent, !r.firstRecv.IsZero() || r.notSTUN > 0
		r.mu.Unlock()
		if answered {
			observeFirst(r, clock, raddr)
			return
		}
		if !sent.IsZero() {
			if left := time.Until(sent.Add(clock.UDPSilence())); left > 0 {
				t.Reset(min(left, clock.RTO()))
				continue
			}
			r.fail(fmt.Errorf("%w from TURN server %s over %s within %s", ErrNoAnswer, raddr, orUDP(tr), clock.UDPSilence().Round(time.Millisecond)))
			return
		}
		t.Reset(clock.RTO())
	}
}

// observeFirst feeds the first transaction's round trip to the clock when
// it came back before the first retransmission could have gone (Karn).
func observeFirst(r *recConn, clock *Clock, raddr netip.AddrPort) {
	r.mu.Lock()
	rtt := r.firstRecv.Sub(r.firstSent)
	r.mu.Unlock()
	if rtt > 0 && rtt < turnClientRTO(clock) {
		clock.Observe(raddr.Addr().Unmap().String(), rtt)
	}
}

func (r *recConn) readErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *recConn) Close() error {
	var err error
	r.closeOnce.Do(func() { err = r.PacketConn.Close() })
	return err
}

func (r *recConn) challengeRTT() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstSent.IsZero() || r.firstRecv.IsZero() {
		return 0
	}
	return r.firstRecv.Sub(r.firstSent)
}

// fillFromLast copies the last Allocate response's facts into det.
func (r *recConn) fillFromLast(det *TURNDetails) {
	r.mu.Lock()
	m := r.last
	r.mu.Unlock()
	if m != nil {
		turnReadAllocate(m, det)
	}
}

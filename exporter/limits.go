package exporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/ucprobe/ucprobe/internal/netcap"
)

// errQueueFull: more probes wait for a slot than max_queued allows.
var errQueueFull = errors.New("probe queue full")

// slots bounds the probes running at once and those waiting for a slot.
// It belongs to the exporter, not to one config: a reload changes the
// numbers but never forgets who holds or waits for a slot, so a reload
// loop cannot lift the limit (issue 14: 6 in flight with a limit of 2).
type slots struct {
	mu       sync.Mutex
	limit    int
	maxQueue int
	busy     int
	queued   int
	// wake is closed (and replaced) whenever a slot may have freed.
	wake chan struct{}
}

func newSlots(limit, maxQueue int) *slots {
	return &slots{limit: limit, maxQueue: maxQueue, wake: make(chan struct{})}
}

// setLimits takes effect for the next acquire; running probes keep their
// slots (a lower limit admits no one until enough have finished).
func (s *slots) setLimits(limit, maxQueue int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.maxQueue = limit, maxQueue
	s.broadcast()
}

func (s *slots) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// acquire takes a slot, waiting until ctx ends; with maxQueue waiters
// already queued it fails at once with errQueueFull.
func (s *slots) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.busy < s.limit {
		s.busy++
		s.mu.Unlock()
		return nil
	}
	if s.queued >= s.maxQueue {
		s.mu.Unlock()
		return errQueueFull
	}
	s.queued++
	for {
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			s.mu.Lock()
			s.queued--
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Lock()
		if s.busy < s.limit {
			s.busy++
			s.queued--
			s.mu.Unlock()
			return nil
		}
	}
}

func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy--
	s.broadcast()
}

// counts returns the probes running and waiting now.
func (s *slots) counts() (busy, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy, s.queued
}

// defaultMaxConnections caps the exporter's open HTTP connections; a
// Prometheus server needs a few, max_concurrent + max_queued at most.
const defaultMaxConnections = 64

// newCapListener refuses connections beyond max at once: a plain-HTTP client
// reads one 503 line, a TLS client sees the connection close. The count
// is of connections open, so idle keep-alives count until IdleTimeout.
// refused (when set) counts each refusal.
func newCapListener(ln net.Listener, max int, plain bool, refused func()) *netcap.Listener {
	l := netcap.New(ln, max, 0, nil)
	l.Refuse = func(c net.Conn) {
		if refused != nil {
			refused()
		}
		if plain {
			msg := fmt.Sprintf("ucprobe exporter: too many open connections (--max-connections %d); close idle ones or raise the flag\n", max)
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
		}
	}
	return l
}

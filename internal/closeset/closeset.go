// Package closeset holds closers that end together: the sockets of a
// server, or the transports of a check, closed at once by Close; one added
// after Close is closed on arrival, so nothing opened late outlives it.
package closeset

import (
	"io"
	"sync"
)

// Set is a set of closers; its zero value is ready to use.
type Set struct {
	mu     sync.Mutex
	items  map[io.Closer]struct{}
	closed bool
}

// Add keeps c for Close. After Close it closes c at once and returns false.
func (s *Set) Add(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return false
	}
	if s.items == nil {
		s.items = map[io.Closer]struct{}{}
	}
	s.items[c] = struct{}{}
	return true
}

// Remove forgets c (closed by its owner).
func (s *Set) Remove(c io.Closer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, c)
}

// Close closes every closer held, once; later calls do nothing.
func (s *Set) Close() {
	s.mu.Lock()
	items := s.items
	s.items, s.closed = nil, true
	s.mu.Unlock()
	for c := range items {
		_ = c.Close()
	}
}

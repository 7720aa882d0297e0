package responder

// Test-only views of the server's state.

// Receipt returns a session's receipt, false when the session is unknown.
func (s *Server) Receipt(session string) (Receipt, bool) {
	r, st := s.ledger.receipt(session)
	return r, st == receiptFound
}

func (l *lru[K, V]) len() int { return l.order.Len() }

package responder

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

// serveTCP accepts on one port. A connection proves reachability by its
// handshake alone: it is read from (never written to, so it echoes
// nothing) until it is silent for TCPIdle, then closed.
func (s *Server) serveTCP(ln net.Listener) {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosing() {
				return
			}
			// Out of files or similar: wait a little, as net/http does.
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			s.ledger.recordTCP(ap.Addr().Unmap())
		}
		s.mu.Lock()
		if s.closing || len(s.conns) >= maxTCPConns {
			s.mu.Unlock()
			_ = c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.holdTCP(c)
	}
}

func (s *Server) holdTCP(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	// One deadline for the connection's whole life: a client that keeps
	// talking cannot hold it open either.
	_ = c.SetDeadline(time.Now().Add(s.cfg.TCPIdle))
	_, _ = io.Copy(io.Discard, c)
}

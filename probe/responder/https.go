package responder

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// listenHTTPS binds the control endpoint and wraps it in TLS with the
// configured (or a fresh self-signed) certificate.
func (s *Server) listenHTTPS(ctx context.Context, lc *net.ListenConfig) error {
	cert := s.cfg.Certificate
	if cert == nil {
		c, err := SelfSigned()
		if err != nil {
			return fmt.Errorf("responder: HTTPS certificate: %w", err)
		}
		cert = &c
	}
	ln, err := lc.Listen(ctx, "tcp", s.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("responder: HTTP endpoint %s: %w", s.cfg.HTTP, err)
	}
	s.fingerprint = Fingerprint(cert.Certificate[0])
	tcfg := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	s.httpLn = tls.NewListener(newConnLimit(ln, maxHTTPConns, maxHTTPConnsPerSource), tcfg)
	s.httpSrv = &http.Server{Handler: s.Handler(),
		// The TLS handshake shares ReadHeaderTimeout: a silent stranger
		// holds a connection slot at most this long.
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		// The ICE offer gathers candidates (seconds with a slow TURN).
		WriteTimeout: 30 * time.Second, IdleTimeout: 10 * time.Second,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	return nil
}

// Fingerprint is the SHA-256 fingerprint of the HTTPS certificate ("" when
// the endpoint is off), which clients pin with --responder-fingerprint.
func (s *Server) Fingerprint() string { return s.fingerprint }

// connLimit is a listener that holds at most max connections, and at most
// perSource from one source (sourceKey); past either it closes the new
// connection at once, so the ones in use are never the ones that go.
type connLimit struct {
	net.Listener
	max, perSource int
	mu             sync.Mutex
	total          int
	bySource       map[netip.Prefix]int
}

func newConnLimit(ln net.Listener, max, perSource int) *connLimit {
	return &connLimit{Listener: ln, max: max, perSource: perSource, bySource: map[netip.Prefix]int{}}
}

func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, perr := netip.ParseAddrPort(c.RemoteAddr().String())
		if perr != nil {
			return c, nil
		}
		k := sourceKey(ap.Addr())
		l.mu.Lock()
		if l.total >= l.max || l.bySource[k] >= l.perSource {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.total++
		l.bySource[k]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(k) }}, nil
	}
}

func (l *connLimit) release(k netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.bySource[k]--; l.bySource[k] <= 0 {
		delete(l.bySource, k)
	}
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

package responder

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ucprobe/ucprobe/internal/netcap"
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
	s.httpLn = tls.NewListener(
		// At most maxHTTPConns, maxHTTPConnsPerSource from one source
		// (sourceKey); past either a new connection is closed at once.
		netcap.New(ln, maxHTTPConns, maxHTTPConnsPerSource, sourceKey), tcfg)
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

package responder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/stun/v4"
)

// Server is a running responder: UDP sockets, TCP listeners, the HTTP
// endpoint. New checks the configuration, Start binds and serves, Close
// (or the end of Start's context) stops everything and waits for it: no
// goroutine and no socket outlives Close.
type Server struct {
	cfg    Config
	key    stun.MessageIntegrity
	ledger *ledger
	lim    *limiter
	count  counters
	log    *slog.Logger

	mu      sync.Mutex
	started bool
	closing bool
	done    chan struct{} // closed when Close has finished
	udp     []*udpSocket
	tcp     []net.Listener
	conns   map[net.Conn]struct{}
	httpSrv *http.Server
	httpLn  net.Listener
	// fingerprint is the HTTPS certificate's (set before Start returns).
	fingerprint string
	info        Info
	stopAfter   func() bool
	wg          sync.WaitGroup

	// plainUDP forces the plain path (tests: what the kernel does alone).
	plainUDP bool
	// Each logged once: no destination addresses on this system, a send
	// from a request's destination address that failed.
	pktinfoWarned, srcWarned atomic.Bool
}

// ErrFileLimit: the open-file limit is below what the ports need.
var ErrFileLimit = errors.New("open-file limit too low")

// fileReserve is what the process needs beside the ports: stdio, the
// HTTP endpoint and its connections, the ICE peer's sockets.
const fileReserve = 256

// String and GoString keep fmt (and slog) from dumping the server: its
// config and key (the token's) sit in unexported fields, where fmt never
// calls the token's redacting methods.
func (s *Server) String() string { return "responder.Server(" + s.cfg.Software + ")" }

// GoString: see String.
func (s *Server) GoString() string { return s.String() }

// New checks cfg and returns a Server that is not yet listening.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, key: Key(cfg.Token.Reveal()), log: cfg.Logger,
		ledger: newLedger(cfg.MaxSessions, cfg.MaxSessionsPerSource, cfg.MaxClients, cfg.SessionTTL),
		lim:    newLimiter(cfg.Rate, DefaultMaxSources),
		conns:  map[net.Conn]struct{}{}, done: make(chan struct{})}, nil
}

// Start binds every port and serves until Close or until ctx ends. A UDP
// or TCP port that cannot be bound is listed in Info and the rest goes
// on; the HTTP endpoint failing to bind, or too low an open-file limit,
// is an error (nothing is left listening then).
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("responder: already started")
	}
	s.started = true
	s.mu.Unlock()

	need := CountSpans(s.cfg.UDP) + len(s.cfg.TCP) + fileReserve
	if limit, ok := openFileLimit(); ok && uint64(need) > limit {
		return fmt.Errorf("%w: %d UDP and %d TCP ports need about %d open files, the limit is %d: raise it with `ulimit -n %d` (systemd: LimitNOFILE=) or serve fewer ports",
			ErrFileLimit, CountSpans(s.cfg.UDP), len(s.cfg.TCP), need, limit, need)
	}
	info := Info{Software: s.cfg.Software, UDP: s.cfg.UDP, TCP: s.cfg.TCP, Token: s.key != nil, ICE: s.cfg.ICE != nil}
	if info.UDP == nil {
		info.UDP = []Span{}
	}
	if info.TCP == nil {
		info.TCP = []int{}
	}
	var lc net.ListenConfig
	if err := s.bindUDP(ctx, &lc, &info); err != nil {
		s.Close()
		return err
	}
	if err := s.bindTCP(ctx, &lc, &info); err != nil {
		s.Close()
		return err
	}
	if s.cfg.HTTP != "" {
		if err := s.listenHTTPS(ctx, &lc); err != nil {
			s.Close()
			return err
		}
	}
	if len(s.udp) == 0 && len(s.tcp) == 0 && s.httpLn == nil {
		s.Close()
		return fmt.Errorf("responder: could not bind any port (UDP failed: %s; TCP failed: %v)", FormatSpans(info.UDPFailed), info.TCPFailed)
	}

	s.mu.Lock()
	s.info = info
	if s.closing { // Close ran while Start was binding
		s.closeSocketsLocked()
		s.mu.Unlock()
		return net.ErrClosed
	}
	for i, u := range s.udp {
		s.wg.Add(1)
		go s.serveUDP(u, s.udpPort(i))
	}
	for _, ln := range s.tcp {
		s.wg.Add(1)
		go s.serveTCP(ln)
	}
	if s.httpSrv != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = s.httpSrv.Serve(s.httpLn)
		}()
	}
	s.stopAfter = context.AfterFunc(ctx, func() { s.Close() })
	s.mu.Unlock()
	if len(info.UDPFailed) > 0 || len(info.TCPFailed) > 0 {
		s.log.Warn("some ports could not be bound", "udp_failed", FormatSpans(info.UDPFailed), "tcp_failed", fmt.Sprint(info.TCPFailed))
	}
	s.log.Info("responder listening", "udp", FormatSpans(info.UDP), "tcp", fmt.Sprint(info.TCP), "http", s.HTTPAddr(), "token", info.Token)
	return nil
}

// udpPort is the i-th UDP socket's port.
func (s *Server) udpPort(i int) uint16 {
	return uint16(s.udp[i].c.LocalAddr().(*net.UDPAddr).Port)
}

func (s *Server) hostPort(port int) string {
	return net.JoinHostPort(s.cfg.Listen, strconv.Itoa(port))
}

// bindUDP opens one socket per port: an answer must come from the port
// the probe went to, or a client behind a stateful firewall drops it.
// (And from the address it went to: udpSocket.)
func (s *Server) bindUDP(ctx context.Context, lc *net.ListenConfig, info *Info) error {
	var failed []int
	for _, sp := range s.cfg.UDP {
		for p := sp.Lo; p <= sp.Hi; p++ {
			pc, err := lc.ListenPacket(ctx, "udp", s.hostPort(p))
			if err != nil {
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
					return fmt.Errorf("%w: ran out of open files at UDP port %d: raise the limit with `ulimit -n %d`", ErrFileLimit, p, CountSpans(s.cfg.UDP)+len(s.cfg.TCP)+fileReserve)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.log.Debug("UDP port not bound", "port", p, "err", err)
				failed = append(failed, p)
				continue
			}
			u := s.udpSocket(pc.(*net.UDPConn))
			s.mu.Lock()
			s.udp = append(s.udp, u)
			s.mu.Unlock()
		}
	}
	info.UDPFailed = toSpans(failed)
	return nil
}

func (s *Server) bindTCP(ctx context.Context, lc *net.ListenConfig, info *Info) error {
	for _, p := range s.cfg.TCP {
		ln, err := lc.Listen(ctx, "tcp", s.hostPort(p))
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				return fmt.Errorf("%w: ran out of open files at TCP port %d: raise the limit with `ulimit -n %d`", ErrFileLimit, p, CountSpans(s.cfg.UDP)+len(s.cfg.TCP)+fileReserve)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Debug("TCP port not bound", "port", p, "err", err)
			info.TCPFailed = append(info.TCPFailed, p)
			continue
		}
		s.mu.Lock()
		s.tcp = append(s.tcp, ln)
		s.mu.Unlock()
	}
	return nil
}

// udpSocket sets c up for serveUDP: listening on all addresses, each
// answer leaves from the address its request was sent to (pktinfo.go).
func (s *Server) udpSocket(c *net.UDPConn) *udpSocket {
	u := &udpSocket{c: c, srcFailed: s.srcFailed}
	if !s.cfg.listenAll() || s.plainUDP {
		return u
	}
	pi, err := newPktinfo(c)
	if err != nil {
		if !s.pktinfoWarned.Swap(true) {
			s.log.Info("cannot read the destination address of UDP requests: answers leave from the address the kernel picks, which on a server with several addresses may not be the probed one (listen on one address to be sure)", "err", err)
		}
		return u
	}
	u.pi = pi
	return u
}

func (s *Server) srcFailed(dst netip.Addr, err error) {
	if !s.srcWarned.Swap(true) {
		s.log.Warn("could not answer from the probed address, answered from the kernel's choice (logged once)", "address", dst, "err", err)
	}
}

// serveUDP answers one port until its socket is closed.
func (s *Server) serveUDP(u *udpSocket, port uint16) {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	var sc scratch
	for {
		n, from, dst, err := u.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isClosing() {
				return
			}
			// Windows reports an earlier answer's ICMP port-unreachable
			// as a read error (WSAECONNRESET): not fatal for the socket.
			continue
		}
		if out := s.handlePacket(&sc, port, buf[:n], from); out != nil {
			if err := u.write(out, from, dst); err != nil {
				s.count.err.Add(1)
			}
		}
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Info is what GET /v1/info returns (complete once Start returned).
func (s *Server) Info() Info {
	s.mu.Lock()
	info := s.info
	s.mu.Unlock()
	info.SessionsEvicted, info.SessionsReplaced = s.ledger.evictions()
	return info
}

// Stats returns the UDP counters.
func (s *Server) Stats() Stats { return s.count.snapshot() }

// Clients summarises, per client address, which ports its probes reached
// and what became of them (sorted by address).
func (s *Server) Clients() []ClientSummary { return s.ledger.summary() }

// HTTPAddr is the HTTP endpoint's address ("" when disabled).
func (s *Server) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

// Close stops every socket and waits until every goroutine has ended.
// It is safe to call more than once and from several goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closing = true
	if s.stopAfter != nil {
		s.stopAfter()
	}
	s.closeSocketsLocked()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv != nil {
		// Let requests in flight finish briefly, then cut them.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if srv.Shutdown(ctx) != nil {
			_ = srv.Close()
		}
		cancel()
	}
	s.wg.Wait()
	close(s.done)
	return nil
}

// closeSocketsLocked closes every socket; the serving goroutines end on
// the errors their reads then return. s.mu is held.
func (s *Server) closeSocketsLocked() {
	for _, u := range s.udp {
		_ = u.c.Close()
	}
	for _, ln := range s.tcp {
		_ = ln.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	if s.httpLn != nil {
		_ = s.httpLn.Close() // Serve may not have started; Shutdown tolerates it
	}
}

// Package localturn is an in-process TURN/STUN server (pion/turn) for
// `ucprobe demo`: UDP, TCP and TLS on one address, one long-term user,
// and a Close that really waits for everything it started.
package localturn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/internal/closeset"
	"github.com/ucprobe/ucprobe/probe/secret"
)

// Server is pion/turn's server on one address: UDP and TCP on one port,
// TLS on another. pion's Close neither waits for its goroutines nor closes
// accepted connections, so every socket it reads from is wrapped: Close
// closes them all and waits until no read on any of them is in flight.
type Server struct {
	srv *turn.Server
	cfg Config
	// Port serves UDP and TCP, TLSPort TLS; Roots trusts the TLS
	// certificate made for this server; Notes say where a wanted port was
	// taken and another used.
	Port, TLSPort int
	Roots         *x509.CertPool
	Notes         []string

	mu       sync.Mutex
	idle     *sync.Cond // signalled when inflight drops to 0 after Close
	closed   bool
	inflight int
	sockets  closeset.Set
	once     sync.Once
}

// Config says where the server listens and whom it lets in.
type Config struct {
	IP string // an IPv4 address, e.g. 127.0.0.1
	// Port (UDP and TCP) and TLSPort are wanted; when taken, free ports
	// are used (outside AvoidLo..AvoidHi, e.g. a media range a responder
	// serves) and Notes say so.
	Port, TLSPort    int
	AvoidLo, AvoidHi int
	Realm, User      string
	Password         secret.Secret // probe.Secret: never printed
}

// String and GoString keep fmt (and slog) from printing the server: its
// Config, password included, sits in an unexported field, where fmt
// never calls the password's redacting methods.
func (t *Server) String() string {
	return "localturn.Server(" + net.JoinHostPort(t.cfg.IP, strconv.Itoa(t.Port)) + ")"
}

// GoString: see String.
func (t *Server) GoString() string { return t.String() }

// Start listens and serves until Close.
func Start(cfg Config) (*Server, error) {
	t := &Server{cfg: cfg}
	t.idle = sync.NewCond(&t.mu)
	pc, ln, port, err := t.listenUDPTCP(cfg.Port)
	if err != nil {
		return nil, err
	}
	if cfg.Port != 0 && port != cfg.Port {
		t.Notes = append(t.Notes, fmt.Sprintf("%d is in use on %s (UDP or TCP): took %d instead", cfg.Port, cfg.IP, port))
	}
	cert, roots, err := certificate(cfg.IP)
	if err != nil {
		pc.Close()
		ln.Close()
		return nil, fmt.Errorf("local TURN: TLS certificate: %w", err)
	}
	tcpTLS, err := net.Listen("tcp4", net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.TLSPort)))
	if err != nil {
		if tcpTLS, err = net.Listen("tcp4", net.JoinHostPort(cfg.IP, "0")); err != nil {
			pc.Close()
			ln.Close()
			return nil, fmt.Errorf("local TURN: TLS listener: %w", err)
		}
		t.Notes = append(t.Notes, fmt.Sprintf("TLS %d is in use on %s: took %d instead", cfg.TLSPort, cfg.IP, tcpTLS.Addr().(*net.TCPAddr).Port))
	}
	t.Port, t.TLSPort, t.Roots = port, tcpTLS.Addr().(*net.TCPAddr).Port, roots
	tlsLn := tls.NewListener(t.trackListener(tcpTLS), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})

	key := turn.GenerateAuthKey(cfg.User, cfg.Realm, cfg.Password.Reveal())
	gen := func() turn.RelayAddressGenerator {
		return &relayGen{RelayAddressGeneratorStatic: turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(cfg.IP), Address: cfg.IP}, t: t}
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	t.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:         cfg.Realm,
		LoggerFactory: quiet,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != cfg.User {
				return "", nil, false
			}
			return ra.Username, key, true
		},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: t.trackPacketConn(pc), RelayAddressGenerator: gen()}},
		ListenerConfigs: []turn.ListenerConfig{
			{Listener: t.trackListener(ln), RelayAddressGenerator: gen()},
			{Listener: tlsLn, RelayAddressGenerator: gen()},
		},
	})
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("local TURN: %w", err)
	}
	return t, nil
}

// listenUDPTCP binds UDP and TCP on IP:want, or, when either is taken,
// on a port that is free for both.
func (t *Server) listenUDPTCP(want int) (net.PacketConn, net.Listener, int, error) {
	ip := t.cfg.IP
	try := func(port int) (net.PacketConn, net.Listener, error) {
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			return nil, nil, err
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			pc.Close()
			return nil, nil, err
		}
		return pc, ln, nil
	}
	if pc, ln, err := try(want); err == nil {
		return pc, ln, pc.LocalAddr().(*net.UDPAddr).Port, nil
	}
	var last error
	for range 10 {
		pc, ln, err := try(0)
		if err != nil {
			last = err
			continue
		}
		// A free port can lie in the range to avoid (32768-33000 of a
		// media range is ephemeral on Linux): leave that to its owner.
		if p := pc.LocalAddr().(*net.UDPAddr).Port; p < t.cfg.AvoidLo || p > t.cfg.AvoidHi {
			return pc, ln, p, nil
		}
		pc.Close()
		ln.Close()
		last = errors.New("only ports of the range to avoid were free")
	}
	return nil, nil, 0, fmt.Errorf("local TURN: %d on %s is in use and no free UDP+TCP port was found: %w", want, ip, last)
}

// certificate makes a throw-away certificate for ip and the pool that
// trusts it (only the checks of this run use it).
func certificate(ip string) (tls.Certificate, *x509.CertPool, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "ucprobe local TURN"},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}, roots, nil
}

// Close stops the TURN server, closes every socket it used and waits
// until no read is in flight. Bounded: after 5 s it returns regardless.
func (t *Server) Close() {
	t.once.Do(func() {
		if t.srv != nil {
			_ = t.srv.Close()
		}
		t.sockets.Close()
		t.mu.Lock()
		t.closed = true
		stop := time.AfterFunc(5*time.Second, func() {
			t.mu.Lock()
			t.inflight = 0
			t.idle.Broadcast()
			t.mu.Unlock()
		})
		for t.inflight > 0 {
			t.idle.Wait()
		}
		t.mu.Unlock()
		stop.Stop()
	})
}

// add registers a socket for Close (closes it at once after Close).
func (t *Server) add(c io.Closer) { t.sockets.Add(c) }

func (t *Server) remove(c io.Closer) { t.sockets.Remove(c) }

// enter starts a read; false after Close.
func (t *Server) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.inflight++
	return true
}

func (t *Server) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inflight > 0 {
		t.inflight--
	}
	if t.inflight == 0 {
		t.idle.Broadcast()
	}
}

func (t *Server) trackPacketConn(pc net.PacketConn) net.PacketConn {
	w := &trackedPacketConn{PacketConn: pc, t: t}
	t.add(pc)
	return w
}

func (t *Server) trackListener(ln net.Listener) net.Listener {
	t.add(ln)
	return &trackedListener{Listener: ln, t: t}
}

type trackedPacketConn struct {
	net.PacketConn
	t *Server
}

func (c *trackedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if !c.t.enter() {
		return 0, nil, net.ErrClosed
	}
	defer c.t.leave()
	return c.PacketConn.ReadFrom(b)
}

func (c *trackedPacketConn) Close() error {
	c.t.remove(c.PacketConn)
	return c.PacketConn.Close()
}

type trackedListener struct {
	net.Listener
	t *Server
}

func (l *trackedListener) Accept() (net.Conn, error) {
	if !l.t.enter() {
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	l.t.leave()
	if err != nil {
		return nil, err
	}
	l.t.add(c)
	return &trackedConn{Conn: c, t: l.t}, nil
}

// trackedConn is an accepted TCP connection.
type trackedConn struct {
	net.Conn
	t *Server
}

func (c *trackedConn) Read(b []byte) (int, error) {
	if !c.t.enter() {
		return 0, net.ErrClosed
	}
	defer c.t.leave()
	return c.Conn.Read(b)
}

func (c *trackedConn) Close() error {
	c.t.remove(c.Conn)
	return c.Conn.Close()
}

// relayGen tracks the relay sockets of allocations.
type relayGen struct {
	turn.RelayAddressGeneratorStatic
	t *Server
}

func (g *relayGen) AllocatePacketConn(cfg turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGeneratorStatic.AllocatePacketConn(cfg)
	if err != nil {
		return nil, nil, err
	}
	return g.t.trackPacketConn(pc), addr, nil
}

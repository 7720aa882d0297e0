package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/ice"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
	"github.com/ucprobe/ucprobe/profiles"
)

// What the demo starts, all on loopback: the xphone profile's ports.
const (
	demoIP        = "127.0.0.1"
	demoProfile   = "xphone"
	demoUDPLo     = 30000
	demoUDPHi     = 33000
	demoTCP       = 2230
	demoTURNPort  = 3478 // the profile's stun/turn checks
	demoTURNSPort = 5349 // TURN over TLS (the profile's turn_tls_port)
	demoTURNUser  = "demo"
	demoRealm     = "ucprobe.demo"
)

// demoPassword makes the TURN password of one run (tests replace it to
// look for it in the output).
var demoPassword = func() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "see a full report with no setup: runs the xphone profile against servers it starts on loopback",
		ArgsUsage: " ",
		Description: `Starts, inside this process and on 127.0.0.1 only, what a real site would have:

  - a responder (what 'ucprobe serve' runs on the server side): STUN on UDP
    30000-33000, TCP 2230, its HTTP endpoint on a free port, and its ICE peer;
  - a TURN/STUN server (pion/turn) on UDP and TCP 3478 and TLS 5349 (a
    certificate made for this run), with the user "demo" and a password made
    for this run (never printed);

then runs the built-in xphone profile against them (signalling TCP 2230, the UDP
range sweep with the responder's receipts, two-ended ICE with a short media
measurement and MOS, STUN, TURN over UDP, TCP and TLS with a relayed round trip),
prints the report exactly as 'ucprobe run' would, stops everything it started
and exits with the report's exit code (0 ok).

It sends packets only to 127.0.0.1: nothing leaves this machine.

If 3478 or 5349 is taken (a local coturn), the TURN server takes free ports and
the header says so. UDP ports of 30000-33000 that another program holds are not
served by the responder and show as "not-served", not as blocked.

  ucprobe demo
  ucprobe demo --format json
  ucprobe demo --verbose`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "output format: " + formatsHelp, Value: "text"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "text: add the environment and every check's details"},
			&cli.DurationFlag{Name: "media", Usage: "length of the media-like measurement on the ICE path (0 skips it)", Value: 2 * time.Second},
			&cli.DurationFlag{Name: "timeout", Aliases: []string{"t"}, Usage: "deadline for the whole run", Value: 15 * time.Second},
			&cli.BoolFlag{Name: "debug", Usage: "log what the probes and servers do to stderr (never secrets)"},
		},
		Action: demoAction,
	}
}

func demoAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() > 0 {
		return usagef("demo: unexpected argument %q (see 'ucprobe demo --help')", cmd.Args().First())
	}
	format := cmd.String("format")
	if !validFormat(format) {
		return usagef("--format %q: use one of %s", format, formatsHelp)
	}
	if cmd.Duration("timeout") <= 0 {
		return usagef("--timeout %s: must be positive", cmd.Duration("timeout"))
	}
	if cmd.Duration("media") < 0 {
		return usagef("--media %s: must not be negative", cmd.Duration("media"))
	}
	p, err := profiles.Load(demoProfile)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if cmd.Bool("debug") {
		logger = slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	creds := probe.TURNCredentials{Username: demoTURNUser, Password: probe.Secret(demoPassword())}

	ts, err := startDemoTURN(creds)
	if err != nil {
		return err
	}
	defer ts.Close()

	peer, err := ice.NewResponderHandler(ice.ResponderConfig{
		Servers:  []string{fmt.Sprintf("stun:%s:%d", demoIP, ts.port), fmt.Sprintf("turn:%s:%d?transport=udp", demoIP, ts.port)},
		TURNUser: creds.Username, TURNPass: creds.Password,
		IPFilter: func(ip net.IP) bool { return ip.Equal(net.ParseIP(demoIP)) },
		Loopback: true,
		Logger:   logger,
	})
	if err != nil {
		return fmt.Errorf("demo: ICE peer: %w", err)
	}
	defer peer.Close()
	srv, err := responder.New(responder.Config{
		UDP:    []responder.Span{{Lo: demoUDPLo, Hi: demoUDPHi}},
		TCP:    []int{demoTCP},
		Listen: demoIP, HTTP: net.JoinHostPort(demoIP, "0"),
		ICE: peer, Software: "ucprobe " + version + " (demo)", Logger: logger,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("demo: responder: %w", err)
	}
	defer srv.Close()

	// Text goes to stdout with the report; for json and prometheus the
	// header goes to stderr so that stdout stays machine-readable.
	hw := cmd.Root().Writer
	if format != "text" {
		hw = cmd.Root().ErrWriter
	}
	printDemoHeader(hw, srv, ts)

	// The profile's stun/turn checks name 3478; follow the TURN server
	// when it had to take another port.
	if ts.port != demoTURNPort {
		for i, c := range p.Checks {
			if (c.Kind == string(probe.KindSTUN) || c.Kind == string(probe.KindTURN)) && c.Port == strconv.Itoa(demoTURNPort) {
				p.Checks[i].Port = strconv.Itoa(ts.port)
			}
		}
	}
	cfg := &probe.Config{
		Responder: srv.HTTPAddr(),
		TURN:      creds,
		RootCAs:   ts.roots,
		Media:     cmd.Duration("media"),
		Resolver:  resolver,
		Logger:    logger,
	}
	vars := map[string]string{"server": demoIP, "turn": demoIP, "turn_tls_port": strconv.Itoa(ts.tlsPort)}
	rep, err := execute(ctx, job{Profile: p, Vars: vars, Config: cfg, Timeout: cmd.Duration("timeout")})
	if err != nil {
		return usageError{err}
	}
	if err := writeReport(cmd, rep, format, nil); err != nil {
		return err
	}
	return exitStatus(rep.Verdict.ExitCode())
}

func printDemoHeader(w io.Writer, srv *responder.Server, ts *demoTURN) {
	info := srv.Info()
	served := responder.CountSpans(info.UDP)
	fmt.Fprintf(w, "ucprobe demo: started on %s only (nothing leaves this machine):\n", demoIP)
	fmt.Fprintf(w, "  responder  UDP %s (%d ports, STUN), TCP %d, HTTP %s, ICE peer\n",
		responder.FormatSpans(info.UDP), served, demoTCP, srv.HTTPAddr())
	if len(info.UDPFailed) > 0 {
		n := responder.CountSpans(info.UDPFailed)
		fmt.Fprintf(w, "             UDP %s (%d ports) in use by other programs: not served, reported as not-served\n", responder.FormatSpans(info.UDPFailed), n)
	}
	if len(info.TCPFailed) > 0 {
		fmt.Fprintf(w, "             TCP %s in use by another program: the signalling check connects to that one\n", joinInts(info.TCPFailed))
	}
	fmt.Fprintf(w, "  TURN/STUN  UDP and TCP %d, TLS %d (pion/turn; user %q, a password made for this run)\n", ts.port, ts.tlsPort, demoTURNUser)
	for _, note := range ts.notes {
		fmt.Fprintf(w, "             %s\n", note)
	}
	fmt.Fprintf(w, "running profile %s against them; everything stops when the report is written.\n\n", demoProfile)
}

// demoTURN is pion/turn's server on loopback: UDP and TCP on one port,
// TLS on another. pion's Close neither waits for its goroutines nor closes
// accepted connections, so every socket it reads from is wrapped: Close
// closes them all and waits until no read on any of them is in flight.
type demoTURN struct {
	srv           *turn.Server
	port, tlsPort int
	roots         *x509.CertPool
	notes         []string

	mu       sync.Mutex
	idle     *sync.Cond // signalled when inflight drops to 0 after Close
	closed   bool
	inflight int
	sockets  map[io.Closer]struct{}
	once     sync.Once
}

func startDemoTURN(creds probe.TURNCredentials) (*demoTURN, error) {
	t := &demoTURN{sockets: map[io.Closer]struct{}{}}
	t.idle = sync.NewCond(&t.mu)
	pc, ln, port, err := listenUDPTCP(demoTURNPort)
	if err != nil {
		return nil, err
	}
	if port != demoTURNPort {
		t.notes = append(t.notes, fmt.Sprintf("%d is in use on %s (UDP or TCP): took %d instead", demoTURNPort, demoIP, port))
	}
	cert, roots, err := demoCertificate()
	if err != nil {
		pc.Close()
		ln.Close()
		return nil, fmt.Errorf("demo: TURN TLS certificate: %w", err)
	}
	tcpTLS, err := net.Listen("tcp4", net.JoinHostPort(demoIP, strconv.Itoa(demoTURNSPort)))
	if err != nil {
		if tcpTLS, err = net.Listen("tcp4", net.JoinHostPort(demoIP, "0")); err != nil {
			pc.Close()
			ln.Close()
			return nil, fmt.Errorf("demo: TURN TLS listener: %w", err)
		}
		t.notes = append(t.notes, fmt.Sprintf("TLS %d is in use on %s: took %d instead", demoTURNSPort, demoIP, tcpTLS.Addr().(*net.TCPAddr).Port))
	}
	t.port, t.tlsPort, t.roots = port, tcpTLS.Addr().(*net.TCPAddr).Port, roots
	tlsLn := tls.NewListener(t.trackListener(tcpTLS), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})

	key := turn.GenerateAuthKey(creds.Username, demoRealm, creds.Password.Reveal())
	gen := func() turn.RelayAddressGenerator {
		return &demoRelayGen{RelayAddressGeneratorStatic: turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(demoIP), Address: demoIP}, t: t}
	}
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	t.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:         demoRealm,
		LoggerFactory: quiet,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username != creds.Username {
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
		return nil, fmt.Errorf("demo: TURN server: %w", err)
	}
	return t, nil
}

// listenUDPTCP binds UDP and TCP on 127.0.0.1:want, or, when either is
// taken, on a free port that is free for both.
func listenUDPTCP(want int) (net.PacketConn, net.Listener, int, error) {
	try := func(port int) (net.PacketConn, net.Listener, error) {
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(demoIP, strconv.Itoa(port)))
		if err != nil {
			return nil, nil, err
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp4", net.JoinHostPort(demoIP, strconv.Itoa(p)))
		if err != nil {
			pc.Close()
			return nil, nil, err
		}
		return pc, ln, nil
	}
	if pc, ln, err := try(want); err == nil {
		return pc, ln, want, nil
	}
	var last error
	for range 10 {
		pc, ln, err := try(0)
		if err != nil {
			last = err
			continue
		}
		// A free port can lie in the media range (32768-33000 is
		// ephemeral on Linux): leave that to the responder.
		if p := pc.LocalAddr().(*net.UDPAddr).Port; p < demoUDPLo || p > demoUDPHi {
			return pc, ln, p, nil
		}
		pc.Close()
		ln.Close()
		last = errors.New("only ports of the media range were free")
	}
	return nil, nil, 0, fmt.Errorf("demo: TURN server: %d on %s is in use and no free UDP+TCP port was found: %w", want, demoIP, last)
}

// demoCertificate makes a throw-away certificate for 127.0.0.1 and the
// pool that trusts it (only this run's TURN TLS check uses it).
func demoCertificate() (tls.Certificate, *x509.CertPool, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "ucprobe demo"},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(demoIP)},
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
func (t *demoTURN) Close() {
	t.once.Do(func() {
		if t.srv != nil {
			_ = t.srv.Close()
		}
		t.mu.Lock()
		t.closed = true
		for c := range t.sockets {
			_ = c.Close()
		}
		t.sockets = nil
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
func (t *demoTURN) add(c io.Closer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = c.Close()
		return
	}
	t.sockets[c] = struct{}{}
}

func (t *demoTURN) remove(c io.Closer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sockets, c)
}

// enter starts a read; false after Close.
func (t *demoTURN) enter() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.inflight++
	return true
}

func (t *demoTURN) leave() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inflight > 0 {
		t.inflight--
	}
	if t.inflight == 0 {
		t.idle.Broadcast()
	}
}

func (t *demoTURN) trackPacketConn(pc net.PacketConn) net.PacketConn {
	w := &demoPacketConn{PacketConn: pc, t: t}
	t.add(pc)
	return w
}

func (t *demoTURN) trackListener(ln net.Listener) net.Listener {
	t.add(ln)
	return &demoListener{Listener: ln, t: t}
}

type demoPacketConn struct {
	net.PacketConn
	t *demoTURN
}

func (c *demoPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if !c.t.enter() {
		return 0, nil, net.ErrClosed
	}
	defer c.t.leave()
	return c.PacketConn.ReadFrom(b)
}

func (c *demoPacketConn) Close() error {
	c.t.remove(c.PacketConn)
	return c.PacketConn.Close()
}

type demoListener struct {
	net.Listener
	t *demoTURN
}

func (l *demoListener) Accept() (net.Conn, error) {
	if !l.t.enter() {
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	l.t.leave()
	if err != nil {
		return nil, err
	}
	l.t.add(c)
	return &demoConn{Conn: c, t: l.t}, nil
}

// demoConn is an accepted TCP connection.
type demoConn struct {
	net.Conn
	t *demoTURN
}

func (c *demoConn) Read(b []byte) (int, error) {
	if !c.t.enter() {
		return 0, net.ErrClosed
	}
	defer c.t.leave()
	return c.Conn.Read(b)
}

func (c *demoConn) Close() error {
	c.t.remove(c.Conn)
	return c.Conn.Close()
}

// demoRelayGen tracks the relay sockets of allocations.
type demoRelayGen struct {
	turn.RelayAddressGeneratorStatic
	t *demoTURN
}

func (g *demoRelayGen) AllocatePacketConn(cfg turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGeneratorStatic.AllocatePacketConn(cfg)
	if err != nil {
		return nil, nil, err
	}
	return g.t.trackPacketConn(pc), addr, nil
}

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/ice"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "be the far end of the UDP/TCP/ICE checks (a responder): start it on the server side",
		ArgsUsage: " ",
		Description: `UDP reachability cannot be proven from one end. Start the responder in the
server network, then test from the client network:

  server$ ucprobe serve --udp 30000-33000 --tcp 2230
  client$ ucprobe run --profile xphone --server HOST --responder HOST

It answers STUN Binding requests on every port of --udp (from the probed port),
accepts TCP on --tcp, and remembers which probes arrived, so the client can tell
"blocked on the way in" from "blocked on the way back". The client fetches that
over HTTPS (--http, default :8480), which also carries the two-ended ICE check.

With a token (safe to leave running on an edge):
  server$ ucprobe serve --udp 30000-33000 --tcp 2230 --token-file /etc/ucprobe/token
          (prints the certificate's fingerprint: SHA256:...)
  client$ ucprobe run --profile xphone --server HOST --responder HOST \
          --token-file token --responder-fingerprint SHA256:...

More:
  ucprobe serve --udp 49152-65535 --listen 192.0.2.10                    # one address only
  ucprobe serve --udp 30000-33000 --token-file T --ice-server stun:stun.example:3478 \
                --ice-server turn:turn.example:3478 --turn-user U --turn-pass-file P
  ucprobe serve --print-fingerprint                                      # show it, then exit

Answers are never larger than requests and are rate-limited per client (an
IPv6 /64 counts as one) and in total, so the responder is no amplifier.
Without a token anyone may probe it, and the two-ended ICE check and TURN
credential sharing are off. With one, STUN requests without the right
MESSAGE-INTEGRITY and HTTPS requests without "Authorization: Bearer TOKEN" get
nothing. The HTTPS certificate is made on first start and kept in --state-dir,
so the fingerprint clients pin survives restarts; --tls-cert/--tls-key use your
own. Many ports need many open files: 3,001 ports need about 3,300 (ulimit -n).
Ctrl-C stops it and prints who probed which ports. See SECURITY.md.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "udp", Usage: "UDP `PORTS` to answer STUN on, e.g. 30000-33000,3478"},
			&cli.StringFlag{Name: "tcp", Usage: "TCP `PORTS` to accept on, e.g. 2230,7222"},
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Usage: "IP `ADDR` to bind, for UDP, TCP and the HTTPS endpoint (default: all addresses)"},
			&cli.StringFlag{Name: "http", Usage: "`ADDR` of the HTTPS endpoint (receipts, info, ICE signalling); :PORT takes --listen's address; empty disables it", Value: ":" + strconv.Itoa(responder.DefaultHTTPPort)},
			&cli.StringFlag{Name: "token", Usage: "shared `SECRET` clients must present (prefer --token-file: flags show in ps); never printed", Sources: cli.EnvVars("UCPROBE_TOKEN")},
			&cli.StringFlag{Name: "token-file", Usage: "read the token from `FILE`", TakesFile: true},
			&cli.StringFlag{Name: "state-dir", Usage: "`DIR` keeping the HTTPS key and certificate, so the fingerprint clients pin survives restarts (default: ucprobe/responder in the user's config directory)", TakesFile: true},
			&cli.StringFlag{Name: "tls-cert", Usage: "your own HTTPS certificate `PEM` (with --tls-key) instead of the self-signed one", TakesFile: true},
			&cli.StringFlag{Name: "tls-key", Usage: "the key `PEM` of --tls-cert", TakesFile: true},
			&cli.BoolFlag{Name: "print-fingerprint", Usage: "print the HTTPS certificate's fingerprint (making the certificate if needed) and exit"},
			&cli.FloatFlag{Name: "rate", Usage: "answers per second per client IP (-1: no limit)", Value: responder.DefaultPerSourceRate},
			&cli.IntFlag{Name: "burst", Usage: "packets a client IP may send at once before --rate applies", Value: responder.DefaultPerSourceBurst},
			&cli.FloatFlag{Name: "global-rate", Usage: "answers per second in total (-1: no limit)", Value: responder.DefaultGlobalRate},
			&cli.IntFlag{Name: "max-sessions", Usage: "receipts kept at once (oldest dropped; each expires after 10 min)", Value: responder.DefaultMaxSessions},
			&cli.StringSliceFlag{Name: "ice-server", Usage: "STUN/TURN `URL` the ICE peer gathers with and offers, e.g. stun:host:3478, turn:host:3478?transport=udp (repeatable)"},
			&cli.StringFlag{Name: "turn-user", Usage: "TURN `USER` for --ice-server turn: URLs (needs a password or --turn-secret)", Sources: cli.EnvVars("UCPROBE_TURN_USER")},
			&cli.StringFlag{Name: "turn-pass", Usage: "TURN `PASSWORD` (prefer --turn-pass-file or the environment variable)", Sources: cli.EnvVars("UCPROBE_TURN_PASS")},
			&cli.StringFlag{Name: "turn-pass-file", Usage: "read the TURN password from `FILE`", TakesFile: true},
			&cli.StringFlag{Name: "turn-secret", Usage: "TURN REST shared `SECRET` (coturn use-auth-secret): each ICE session gets credentials derived when it starts, valid an hour", Sources: cli.EnvVars("UCPROBE_TURN_SECRET")},
			&cli.BoolFlag{Name: "share-turn-credentials", Usage: "hand the TURN credentials to clients in the ICE offer (otherwise they use their own --turn-user); needs a token"},
			&cli.BoolFlag{Name: "debug", Usage: "log what the responder does to stderr (never secrets)"},
		},
		Action: serveAction,
	}
}

// serveSettings are the parsed flags.
type serveSettings struct {
	cfg    responder.Config
	iceCfg ice.ResponderConfig
	// certFrom says where the HTTPS certificate came from.
	certFrom string
}

func parseServeFlags(cmd *cli.Command) (serveSettings, error) {
	var st serveSettings
	if cmd.Args().Len() > 0 {
		return st, usagef("serve: unexpected argument %q (flags start with --; see 'ucprobe serve --help')", cmd.Args().First())
	}
	token, turnPass, err := responderSecrets(cmd)
	if err != nil {
		return st, err
	}
	turn, err := turnFlags(cmd, turnPass)
	if err != nil {
		return st, err
	}
	cfg := responder.Config{Listen: cmd.String("listen"), HTTP: cmd.String("http"), Token: token,
		Software: "ucprobe " + version, MaxSessions: cmd.Int("max-sessions")}
	if cfg.UDP, cfg.TCP, err = servePorts(cmd); err != nil {
		return st, err
	}
	if cfg.UDP == nil && cfg.TCP == nil && cfg.HTTP == "" {
		return st, usagef("serve: nothing to serve: give --udp PORTS and/or --tcp PORTS (e.g. --udp 30000-33000 --tcp 2230)")
	}
	var listenIP net.IP
	if cfg.Listen != "" {
		if listenIP = net.ParseIP(cfg.Listen); listenIP == nil {
			return st, usagef("--listen %q: not an IP address (give one of this machine's addresses, or leave it out for all)", cfg.Listen)
		}
	}
	if cfg.HTTP != "" {
		h, p, err := net.SplitHostPort(cfg.HTTP)
		if err != nil {
			return st, usagef("--http %q: write HOST:PORT or :PORT, e.g. :8480", cfg.HTTP)
		}
		if h == "" && cfg.Listen != "" { // --listen applies to every listener
			cfg.HTTP = net.JoinHostPort(cfg.Listen, p)
		}
	}
	if cmd.Bool("share-turn-credentials") && token == "" {
		return st, usagef("--share-turn-credentials needs a token (--token-file FILE): without one anyone who asks gets the TURN password")
	}
	if (cmd.String("tls-cert") == "") != (cmd.String("tls-key") == "") {
		return st, usagef("--tls-cert and --tls-key go together: give both, or neither for the self-signed certificate")
	}
	if cfg.Rate, err = serveLimits(cmd); err != nil {
		return st, err
	}
	st.iceCfg = ice.ResponderConfig{
		Servers:              cmd.StringSlice("ice-server"),
		TURNUser:             turn.Username,
		TURNPass:             turn.Password,
		Token:                token,
		TURNSecret:           turn.SharedSecret,
		ShareTURNCredentials: cmd.Bool("share-turn-credentials"),
	}
	if listenIP != nil {
		// Offer host candidates on the address clients were told to use.
		st.iceCfg.IPFilter = func(ip net.IP) bool { return ip.Equal(listenIP) }
		st.iceCfg.Loopback = listenIP.IsLoopback()
	}
	st.cfg = cfg
	return st, nil
}

// servePorts reads --udp (ranges, one socket per port) and --tcp.
func servePorts(cmd *cli.Command) (udp []responder.Span, tcp []int, err error) {
	if s := cmd.String("udp"); s != "" {
		rs, err := probe.ParsePorts(s)
		if err != nil {
			return nil, nil, usagef("--udp %q: %v", s, err)
		}
		for _, r := range rs {
			udp = append(udp, responder.Span{Lo: int(r.First), Hi: int(r.Last)})
		}
	}
	if s := cmd.String("tcp"); s != "" {
		rs, err := probe.ParsePorts(s)
		if err != nil {
			return nil, nil, usagef("--tcp %q: %v", s, err)
		}
		for _, r := range rs {
			for p := int(r.First); p <= int(r.Last); p++ {
				tcp = append(tcp, p)
			}
		}
	}
	return udp, tcp, nil
}

// serveLimits reads the rate limits and the session cap.
func serveLimits(cmd *cli.Command) (responder.RateLimits, error) {
	for _, r := range []struct {
		name string
		v    float64
	}{{"--rate", cmd.Float("rate")}, {"--global-rate", cmd.Float("global-rate")}} {
		if r.v == 0 || (r.v < 0 && r.v != -1) {
			return responder.RateLimits{}, usagef("%s %v: give packets per second, or -1 for no limit", r.name, r.v)
		}
	}
	if cmd.Int("burst") < 1 {
		return responder.RateLimits{}, usagef("--burst %d: must be at least 1", cmd.Int("burst"))
	}
	if cmd.Int("max-sessions") < 1 {
		return responder.RateLimits{}, usagef("--max-sessions %d: must be at least 1", cmd.Int("max-sessions"))
	}
	return responder.RateLimits{PerSource: cmd.Float("rate"), PerSourceBurst: int(cmd.Int("burst")), Global: cmd.Float("global-rate")}, nil
}

// serveCert is the HTTPS certificate: the user's, or the self-signed one
// kept in the state directory.
func serveCert(cmd *cli.Command) (*tls.Certificate, string, error) {
	if f := cmd.String("tls-cert"); f != "" {
		c, err := responder.LoadCert(f, cmd.String("tls-key"))
		if err != nil {
			return nil, "", usageError{err}
		}
		return &c, "--tls-cert " + f, nil
	}
	dir := cmd.String("state-dir")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, "", usagef("--state-dir: no user config directory here (%v): give --state-dir DIR", err)
		}
		dir = filepath.Join(base, "ucprobe", "responder")
	}
	c, err := responder.LoadOrCreateCert(dir)
	if err != nil {
		return nil, "", usagef("--state-dir: %v", err)
	}
	return &c, "self-signed, kept in " + dir, nil
}

func serveAction(ctx context.Context, cmd *cli.Command) error {
	if cmd.Bool("print-fingerprint") {
		cert, _, err := serveCert(cmd)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.Root().Writer, responder.Fingerprint(cert.Certificate[0]))
		return nil
	}
	st, err := parseServeFlags(cmd)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if cmd.Bool("debug") {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: level}))
	st.iceCfg.Logger = logger
	st.cfg.Logger = logger

	peer, err := ice.NewResponderHandler(st.iceCfg)
	if err != nil {
		return usagef("--ice-server: %v", err)
	}
	defer peer.Close()
	st.cfg.ICE = peer
	// The certificate last: bad input above makes no state directory.
	if st.cfg.HTTP != "" {
		if st.cfg.Certificate, st.certFrom, err = serveCert(cmd); err != nil {
			return err
		}
	}
	srv, err := responder.New(st.cfg)
	if err != nil {
		return usageError{err}
	}
	if err := srv.Start(ctx); err != nil {
		return usageError{err}
	}
	w := cmd.Root().Writer
	printServeStart(w, srv, st)
	<-ctx.Done()
	_ = srv.Close()
	_ = peer.Close()
	printServeSummary(w, srv)
	return nil
}

func printServeStart(w io.Writer, srv *responder.Server, st serveSettings) {
	info := srv.Info()
	where := "all addresses"
	if st.cfg.Listen != "" {
		where = st.cfg.Listen
	}
	fmt.Fprintf(w, "ucprobe serve %s: responder on %s\n", version, where)
	if len(info.UDP) > 0 {
		n := responder.CountSpans(info.UDP)
		fmt.Fprintf(w, "  UDP   %s (%d ports, STUN)\n", responder.FormatSpans(info.UDP), n)
	}
	if len(info.UDPFailed) > 0 {
		fmt.Fprintf(w, "  UDP   not bound (in use or not permitted): %s\n", responder.FormatSpans(info.UDPFailed))
	}
	if len(info.TCP) > 0 {
		fmt.Fprintf(w, "  TCP   %s\n", joinInts(info.TCP))
	}
	if len(info.TCPFailed) > 0 {
		fmt.Fprintf(w, "  TCP   not bound (in use or not permitted): %s\n", joinInts(info.TCPFailed))
	}
	client := "client$ ucprobe run --profile PROFILE --server HOST --responder HOST"
	if a := srv.HTTPAddr(); a != "" {
		fmt.Fprintf(w, "  HTTPS %s (%s, %s{session}, %s)\n", a, responder.PathInfo, responder.PathReceipts, responder.PathICE)
		fmt.Fprintf(w, "  certificate %s (%s)\n", srv.Fingerprint(), st.certFrom)
		ices := "host candidates only"
		if len(st.iceCfg.Servers) > 0 {
			ices = strings.Join(st.iceCfg.Servers, " ")
		}
		if info.Token {
			fmt.Fprintf(w, "  ICE   %s\n", ices)
		} else {
			fmt.Fprintln(w, "  ICE   off (no token)")
		}
	} else {
		fmt.Fprintln(w, "  HTTPS off: clients get no receipts and no two-ended ICE check")
	}
	if info.Token {
		fmt.Fprintln(w, "  token on: clients need it (--token-file or UCPROBE_TOKEN) and the certificate's fingerprint")
		client += " --token-file FILE"
		if srv.HTTPAddr() != "" {
			client += " --responder-fingerprint " + srv.Fingerprint()
		}
	} else {
		fmt.Fprintln(w, "  token off: anyone may probe (answers are size-capped and rate-limited); a token (--token-file FILE) would enable the two-ended ICE check, TURN credential sharing and receipts no stranger can create")
	}
	fmt.Fprintln(w, client)
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}

func printServeSummary(w io.Writer, srv *responder.Server) {
	st := srv.Stats()
	clients := srv.Clients()
	fmt.Fprintf(w, "ucprobe serve: stopped; %d packets, %d answered, %d rate-limited, %d too large, %d malformed, %d not Binding, %d without the token; %d client(s)\n",
		st.Packets, st.Answered, st.RateLimited, st.TooLarge, st.Malformed, st.NotBinding, st.Unauthenticated, len(clients))
	for _, c := range clients {
		ports := "none"
		if len(c.Ports) > 0 {
			ports = fmt.Sprintf("%s (%d)", responder.FormatSpans(c.Ports), responder.CountSpans(c.Ports))
		}
		fmt.Fprintf(w, "  %s: UDP ports %s, %d received, %d answered, %d rate-limited; TCP connections %d\n",
			c.IP, ports, c.Received, c.Answered, c.RateLimited, c.TCP)
	}
}

func joinInts(ps []int) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.Itoa(p)
	}
	return strings.Join(parts, ",")
}

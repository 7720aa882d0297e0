package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/ice"
	"github.com/ucprobe/ucprobe/pipeline"
	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/localturn"
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
	format, err := demoFlags(cmd)
	if err != nil {
		return err
	}
	p, err := profiles.Load(demoProfile)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if cmd.Bool("debug") {
		logger = slog.New(slog.NewTextHandler(cmd.Root().ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	site, err := startDemoSite(ctx, logger)
	if err != nil {
		return err
	}
	defer site.close()

	// Text goes to stdout with the report; for json and prometheus the
	// header goes to stderr so that stdout stays machine-readable.
	hw := cmd.Root().Writer
	if format != "text" {
		hw = cmd.Root().ErrWriter
	}
	printDemoHeader(hw, site.srv, site.turn)
	followTURNPort(p, site.turn.Port)
	cfg := &probe.Config{
		Responder:            site.srv.HTTPAddr(),
		ResponderToken:       site.token,
		ResponderFingerprint: site.srv.Fingerprint(),
		TURN:                 site.creds,
		RootCAs:              site.turn.Roots,
		Media:                cmd.Duration("media"),
		Resolver:             resolver,
		Logger:               logger,
	}
	vars := map[string]string{"server": demoIP, "turn": demoIP, "turn_tls_port": strconv.Itoa(site.turn.TLSPort)}
	rep, err := pipeline.Run(ctx, pipeline.Job{Profile: p, Vars: vars, Config: cfg, Timeout: cmd.Duration("timeout"), Version: version})
	if err != nil {
		return usageError{err}
	}
	if err := writeReport(cmd, rep, format, nil); err != nil {
		return err
	}
	return exitStatus(rep.ExitCode())
}

// demoFlags checks the demo's flags and returns the format.
func demoFlags(cmd *cli.Command) (string, error) {
	if cmd.Args().Len() > 0 {
		return "", usagef("demo: unexpected argument %q (see 'ucprobe demo --help')", cmd.Args().First())
	}
	format := cmd.String("format")
	if !validFormat(format) {
		return "", usagef("--format %q: use one of %s", format, formatsHelp)
	}
	if cmd.Duration("timeout") <= 0 {
		return "", usagef("--timeout %s: must be positive", cmd.Duration("timeout"))
	}
	if cmd.Duration("media") < 0 {
		return "", usagef("--media %s: must not be negative", cmd.Duration("media"))
	}
	return format, nil
}

// demoSite is what a real site would have, on 127.0.0.1: a TURN server and
// a responder with its ICE peer.
type demoSite struct {
	turn  *localturn.Server
	peer  *ice.Responder
	srv   *responder.Server
	creds probe.TURNCredentials
	token probe.Secret
}

// String and GoString keep fmt (and slog) from printing the site: its
// TURN credentials and token sit in unexported fields, where fmt never
// calls probe.Secret's redacting methods.
func (d demoSite) String() string { return "demoSite(" + demoIP + ")" }

// GoString: see String.
func (d demoSite) GoString() string { return d.String() }

// startDemoSite starts the TURN server and the responder. The responder
// runs as a field tech should run it: with a token (made for this run) and
// HTTPS whose fingerprint the client pins.
func startDemoSite(ctx context.Context, logger *slog.Logger) (*demoSite, error) {
	d := &demoSite{creds: probe.TURNCredentials{Username: demoTURNUser, Password: probe.Secret(demoPassword())},
		token: probe.Secret(demoPassword())}
	var err error
	d.turn, err = localturn.Start(localturn.Config{IP: demoIP, Port: demoTURNPort, TLSPort: demoTURNSPort,
		AvoidLo: demoUDPLo, AvoidHi: demoUDPHi, Realm: demoRealm, User: d.creds.Username, Password: d.creds.Password})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.peer, err = ice.NewResponderHandler(ice.ResponderConfig{
		Servers:  []string{fmt.Sprintf("stun:%s:%d", demoIP, d.turn.Port), fmt.Sprintf("turn:%s:%d?transport=udp", demoIP, d.turn.Port)},
		TURNUser: d.creds.Username, TURNPass: d.creds.Password,
		IPFilter: func(ip net.IP) bool { return ip.Equal(net.ParseIP(demoIP)) },
		Loopback: true,
		Token:    d.token,
		Logger:   logger,
	})
	if err != nil {
		d.close()
		return nil, fmt.Errorf("demo: ICE peer: %w", err)
	}
	d.srv, err = responder.New(responder.Config{
		UDP:    []responder.Span{{Lo: demoUDPLo, Hi: demoUDPHi}},
		TCP:    []int{demoTCP},
		Listen: demoIP, HTTP: net.JoinHostPort(demoIP, "0"), Token: d.token,
		ICE: d.peer, Software: "ucprobe " + version + " (demo)", Logger: logger,
	})
	if err == nil {
		if err = d.srv.Start(ctx); err != nil {
			err = fmt.Errorf("demo: responder: %w", err)
		}
	}
	if err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// close stops what started, the responder first.
func (d *demoSite) close() {
	if d.srv != nil {
		d.srv.Close()
	}
	if d.peer != nil {
		d.peer.Close()
	}
	if d.turn != nil {
		d.turn.Close()
	}
}

// followTURNPort points the profile's STUN, TURN and ICE checks at the
// TURN server's port when it had to take another than 3478.
func followTURNPort(p *profiles.Profile, port int) {
	if port == demoTURNPort {
		return
	}
	for i, c := range p.Checks {
		if (c.Kind == string(probe.KindSTUN) || c.Kind == string(probe.KindTURN) || c.Kind == string(probe.KindICE)) && c.Port == strconv.Itoa(demoTURNPort) {
			p.Checks[i].Port = strconv.Itoa(port)
		}
	}
}

func printDemoHeader(w io.Writer, srv *responder.Server, ts *localturn.Server) {
	info := srv.Info()
	served := responder.CountSpans(info.UDP)
	fmt.Fprintf(w, "ucprobe demo: started on %s only (nothing leaves this machine):\n", demoIP)
	fmt.Fprintf(w, "  responder  UDP %s (%d ports, STUN), TCP %d, HTTPS %s, ICE peer (a token and a pinned certificate made for this run)\n",
		responder.FormatSpans(info.UDP), served, demoTCP, srv.HTTPAddr())
	if len(info.UDPFailed) > 0 {
		n := responder.CountSpans(info.UDPFailed)
		fmt.Fprintf(w, "             UDP %s (%d ports) in use by other programs: not served, reported as not-served\n", responder.FormatSpans(info.UDPFailed), n)
	}
	if len(info.TCPFailed) > 0 {
		fmt.Fprintf(w, "             TCP %s in use by another program: the signalling check connects to that one\n", joinInts(info.TCPFailed))
	}
	fmt.Fprintf(w, "  TURN/STUN  UDP and TCP %d, TLS %d (pion/turn; user %q, a password made for this run)\n", ts.Port, ts.TLSPort, demoTURNUser)
	for _, note := range ts.Notes {
		fmt.Fprintf(w, "             %s\n", note)
	}
	fmt.Fprintf(w, "running profile %s against them; everything stops when the report is written.\n\n", demoProfile)
}

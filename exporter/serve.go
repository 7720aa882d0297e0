package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// ErrSetup marks what goes wrong before the exporter serves: the config,
// the web config, the listen address. The CLI makes it exit 3.
var ErrSetup = errors.New("exporter not started")

// resolver is nil (the system's) except in tests, which must not send DNS
// queries off the machine.
var resolver probe.Resolver

// Options are the exporter command's flags.
type Options struct {
	ConfigPath     string
	Listen         string // DefaultListen when empty
	WebConfigFile  string // exporter-toolkit format: TLS and basic auth
	MaxConnections int    // 1-65536; the command's default is DefaultMaxConnections
	Version        string
	Logger         *slog.Logger
}

// DefaultListen is loopback: reaching the exporter from another host takes
// a decision (and --web.config.file).
const DefaultListen = defaultExporterListen

// DefaultMaxConnections caps open HTTP connections.
const DefaultMaxConnections = defaultMaxConnections

// Check loads and validates the config at path and describes its modules
// to w (the command's --check).
func Check(path string, w io.Writer) error {
	cfg, err := loadExporterConfig(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSetup, err)
	}
	fmt.Fprintf(w, "%s: ok (%d modules, max_concurrent %d, max_queued %d)\n", cfg.File, len(cfg.Modules), cfg.MaxConcurrent, cfg.MaxQueued)
	for _, n := range cfg.Names() {
		m := cfg.Modules[n]
		fmt.Fprintf(w, "  %s: profile %s, target -> %s, timeout %s, allowed: %s\n", n, m.Profile.ID, m.TargetVar, m.Timeout, m.Allow)
	}
	for _, warn := range cfg.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

// Serve loads the config, listens and serves probes until ctx ends;
// SIGHUP reloads the config. Errors before it listens wrap ErrSetup.
func Serve(ctx context.Context, o Options) error {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.MaxConnections < 1 || o.MaxConnections > 65536 {
		return fmt.Errorf("%w: --max-connections %d: must be 1-65536", ErrSetup, o.MaxConnections)
	}
	cfg, err := loadExporterConfig(o.ConfigPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSetup, err)
	}
	wc, err := loadWebConfig(o.WebConfigFile)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSetup, err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("%w: --listen %s: %v", ErrSetup, o.Listen, err)
	}
	e := newExporter(o.ConfigPath, cfg, o.Logger, o.Version)
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && !ap.Addr().IsLoopback() && wc.path == "" {
		o.Logger.Warn("listening beyond loopback without --web.config.file: anyone who reaches this address can run probes of the allowed targets", "addr", ln.Addr().String())
	}
	o.Logger.Info("ucprobe exporter listening", "addr", ln.Addr().String(), "config", cfg.File, "modules", strings.Join(cfg.Names(), ","), "version", o.Version)
	return e.serve(ctx, newCapListener(ln, o.MaxConnections, !wc.tls, e.m.connRefused.Inc), wc)
}

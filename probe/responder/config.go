package responder

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/ucprobe/ucprobe/probe/secret"
)

// DefaultHTTPPort is the responder's HTTP port. It duplicates
// probe.DefaultResponderPort: this package must not import probe (probe's
// sweep client imports this package; probe.Secret is secret.Secret for
// the same reason).
const DefaultHTTPPort = 8480

// Defaults of the rate limits. The sizing case is one client sweeping a
// 3,001-port range at 25,000 packets/s and then retransmitting to the
// ports that stayed silent: about 6,000 probes within a quarter second.
//   - per source 30,000/s sits above the client's 25,000/s, so a sweep is
//     never throttled in steady state;
//   - a burst of 10,000 holds a whole sweep plus its retransmission pass
//     even if the client's sender bunches packets up;
//   - global 100,000/s lets three or four such clients sweep at once and
//     caps what a flood of spoofed sources can reflect: answers are never
//     larger than requests (PadTo, 160 bytes), so at most about 16 MB/s.
const (
	DefaultPerSourceRate  = 30000
	DefaultPerSourceBurst = 10000
	DefaultGlobalRate     = 100000
)

// Defaults that bound memory: a session costs about 8 KiB (a bit per
// port), so 1,024 sessions are 8 MiB at most.
const (
	DefaultMaxSessions = 1024
	// DefaultSessionShare: no source (an IPv4 address, an IPv6 /64) holds
	// more than 1/8 of the session slots; past it, its own oldest session
	// makes room, so one source cannot evict the others' receipts.
	DefaultSessionShare = 8
	DefaultSessionTTL   = 10 * time.Minute
	// DefaultMaxClients bounds the per-client summary the same way.
	DefaultMaxClients = 1024
	// DefaultMaxSources bounds the per-source rate limiters; evicting the
	// oldest hands a source a fresh bucket, which the global limit caps.
	DefaultMaxSources = 4096
	// maxReceiptClients caps the source addresses kept per session (a
	// NAT pool uses a few; a flood of spoofed ones must not grow a list).
	maxReceiptClients = 16
	// DefaultTCPIdle is how long a TCP connection may stay silent before
	// it is closed: a reachability check needs the handshake only.
	DefaultTCPIdle = 2 * time.Second
	// maxTCPConns bounds connections held open at once.
	maxTCPConns = 512
	// maxHTTPConns bounds the control endpoint's connections, and
	// maxHTTPConnsPerSource one source's share of them: a stranger who
	// opens connections and stays silent cannot lock the clients out.
	maxHTTPConns          = 256
	maxHTTPConnsPerSource = 16
)

// RateLimits are token buckets in packets per second. Zero means the
// default; a negative value turns the limit off.
type RateLimits struct {
	PerSource      float64 // per client IP address
	PerSourceBurst int
	Global         float64 // all sources together
}

// Config configures a Server.
type Config struct {
	// UDP are the port ranges to answer STUN on (one socket per port, so
	// every answer comes from the probed port).
	UDP []Span
	// TCP are ports that accept connections and close them after a short
	// idle time.
	TCP []int
	// Listen is the IP address to bind; empty (or 0.0.0.0, ::) means all
	// addresses. On all addresses each answer still leaves from the
	// address its request was sent to, where the system tells it
	// (Linux, macOS; see pktinfo.go); elsewhere from the kernel's choice.
	Listen string
	// HTTP is the address of the info/receipts/ICE endpoint, e.g.
	// ":8480"; empty disables it. It speaks HTTPS only (the token must
	// never travel in the clear).
	HTTP string
	// Certificate is the endpoint's TLS certificate; nil makes a
	// self-signed one for this run (LoadOrCreateCert keeps one across
	// runs). Clients pin Fingerprint().
	Certificate *tls.Certificate
	// Token, when set, is required on every request: STUN requests must
	// carry MESSAGE-INTEGRITY with Key(Token), HTTP requests
	// "Authorization: Bearer Token". A secret.Secret (probe.Secret), so
	// printing or encoding a Config never shows it; never logged.
	Token secret.Secret
	Rate  RateLimits
	// MaxSessions bounds the receipts kept (oldest evicted first);
	// SessionTTL expires a session that saw no probe for that long.
	MaxSessions int
	SessionTTL  time.Duration
	// MaxSessionsPerSource bounds one source's sessions (default
	// MaxSessions/DefaultSessionShare, at least 1).
	MaxSessionsPerSource int
	// MaxClients bounds the per-client summary (oldest evicted first).
	MaxClients int
	// TCPIdle is how long an accepted connection may stay silent.
	TCPIdle time.Duration
	// ICE is the ICE peer's signalling (package ice), mounted at PathICE;
	// nil answers 404 there.
	ICE http.Handler
	// Software names the responder in Info (e.g. "ucprobe v1.2").
	Software string
	Logger   *slog.Logger
}

// ErrConfig is the class of every configuration error.
var ErrConfig = errors.New("responder config")

// withDefaults checks cfg and fills in the defaults.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.UDP) == 0 && len(cfg.TCP) == 0 && cfg.HTTP == "" {
		return cfg, fmt.Errorf("%w: nothing to listen on (no UDP, TCP or HTTP)", ErrConfig)
	}
	if err := checkSpans(cfg.UDP); err != nil {
		return cfg, err
	}
	seen := map[int]bool{}
	for _, p := range cfg.TCP {
		if p < 1 || p > 65535 {
			return cfg, fmt.Errorf("%w: TCP port %d is outside 1-65535", ErrConfig, p)
		}
		if seen[p] {
			return cfg, fmt.Errorf("%w: TCP port %d given twice", ErrConfig, p)
		}
		seen[p] = true
	}
	if cfg.Listen != "" {
		if _, err := netip.ParseAddr(cfg.Listen); err != nil {
			return cfg, fmt.Errorf("%w: listen address %q is not an IP address", ErrConfig, cfg.Listen)
		}
	}
	if cfg.Rate.PerSource == 0 {
		cfg.Rate.PerSource = DefaultPerSourceRate
	}
	if cfg.Rate.PerSourceBurst <= 0 {
		cfg.Rate.PerSourceBurst = DefaultPerSourceBurst
	}
	if cfg.Rate.Global == 0 {
		cfg.Rate.Global = DefaultGlobalRate
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.MaxSessionsPerSource <= 0 {
		cfg.MaxSessionsPerSource = max(1, cfg.MaxSessions/DefaultSessionShare)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.TCPIdle <= 0 {
		cfg.TCPIdle = DefaultTCPIdle
	}
	if cfg.Software == "" {
		cfg.Software = "ucprobe responder"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// checkSpans: ports in 1-65535, not reversed, not overlapping.
func checkSpans(spans []Span) error {
	for i, s := range spans {
		if s.Lo < 1 || s.Hi > 65535 {
			return fmt.Errorf("%w: UDP range %d-%d is outside 1-65535", ErrConfig, s.Lo, s.Hi)
		}
		if s.Hi < s.Lo {
			return fmt.Errorf("%w: UDP range %d-%d is reversed", ErrConfig, s.Lo, s.Hi)
		}
		for _, o := range spans[:i] {
			if s.Lo <= o.Hi && o.Lo <= s.Hi {
				return fmt.Errorf("%w: UDP range %d-%d overlaps %d-%d", ErrConfig, s.Lo, s.Hi, o.Lo, o.Hi)
			}
		}
	}
	return nil
}

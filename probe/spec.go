package probe

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/ucprobe/ucprobe/probe/secret"
)

// Spec is one resolved check: what the plan (package profiles) hands to a
// prober. Fields that a kind does not use stay zero.
type Spec struct {
	ID     string
	Kind   Kind
	Title  string
	Target string // as the profile wrote it after expansion, for display
	Host   string // name or IP literal to probe
	// Address is set by the runner when it splits a check per resolved
	// address; probers dial it instead of Host when valid.
	Address string
	Port    int
	// Ranges are the UDP ranges of a udp-range check.
	Ranges    []PortRange
	Transport Transport
	Path      string // websocket path, e.g. "/ws"
	SNI       string // TLS server name; defaults to Host
	Timeout   time.Duration
	// NeedsResponder marks checks only a ucprobe responder can answer.
	NeedsResponder bool
	Optional       bool
	// Sample caps how many ports of a huge range are swept (0: all).
	Sample int
	// LocalRange, when set, binds the client side of a UDP check inside it.
	LocalRange *PortRange
	// AnswersSTUN, when set, is the profile's source for "the far end
	// answers STUN on these ports" (udp-range): live sampling then weighs
	// silence more.
	AnswersSTUN string
	// Mode selects a variant of a kind (ice: an ICEMode; sip: the method).
	Mode string
	// Skip, when non-empty, makes the runner report the check as skipped
	// with this reason (e.g. an optional variable was not set).
	Skip string
}

// DialHost returns the host to connect to: the runner's resolved address when
// set, else the host as given.
func (s *Spec) DialHost() string {
	if s.Address != "" {
		return s.Address
	}
	return s.Host
}

// ServerName is the TLS SNI for the spec.
func (s *Spec) ServerName() string {
	if s.SNI != "" {
		return s.SNI
	}
	return s.Host
}

// Config is what every prober of one run shares: trust, credentials, the
// responder and knobs that come from the command line, not the profile.
type Config struct {
	// RootCAs verifies TLS; nil means the system roots. --ca-file adds to
	// the system roots rather than replacing them.
	RootCAs *x509.CertPool
	TURN    TURNCredentials
	// Responder is the host (optionally host:port of its HTTP endpoint) of
	// a ucprobe responder at the far end; empty when there is none.
	Responder      string
	ResponderToken Secret
	// ResponderFingerprint pins the responder's HTTPS certificate
	// ("SHA256:hex", as `ucprobe serve` prints it).
	ResponderFingerprint string
	// ExtraSTUN are additional STUN servers (host:port) for NAT mapping tests.
	ExtraSTUN []string
	// SweepRate paces UDP range sweeps in packets per second (0:
	// DefaultSweepRate).
	SweepRate int
	// Media is the length of the media-like measurement (0: skip).
	Media time.Duration
	// Proxy picks the HTTP proxy for WebSocket checks; nil means
	// http.ProxyFromEnvironment.
	Proxy func(*http.Request) (*url.URL, error)
	// Resolver resolves names; nil means net.DefaultResolver.
	Resolver Resolver
	Logger   *slog.Logger
	// Progress, when set, hears every check start and end (from the
	// checks' goroutines: it must be safe for concurrent use and quick).
	Progress func(ProgressEvent)
	// Clock is the run's round-trip estimate, which every silence bound
	// follows; the runner sets a fresh one per run (nil: nothing measured).
	Clock *Clock
}

// Resolver is the part of *net.Resolver the probes use, so tests can fake DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ResolverOf is the resolver every probe looks names up with: the
// configured one, else the system's. One place, so no probe bypasses a
// configured resolver (a test's fake DNS, or what the CLI wired).
func ResolverOf(cfg *Config) Resolver {
	if cfg == nil || cfg.Resolver == nil {
		return net.DefaultResolver
	}
	return cfg.Resolver
}

// TURNCredentials are long-term credentials or a TURN REST shared secret.
type TURNCredentials struct {
	Username string
	Password Secret
	// SharedSecret derives time-limited credentials (coturn use-auth-secret).
	SharedSecret Secret
}

// Secret is a string that never prints (fmt, %v, %#v, JSON and slog show
// "[redacted]"); Reveal hands the value to a protocol library. It is
// secret.Secret, so probe/responder (which probe imports) has it too.
type Secret = secret.Secret

// DefaultResponderPort is the TCP port of a ucprobe responder's HTTP
// endpoint (receipts, ICE signalling) when --responder gives none.
const DefaultResponderPort = 8480

package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ucprobe/ucprobe/probe/responder"
)

// ErrNoResponder: a check that needs a responder ran without --responder.
var ErrNoResponder = errors.New("no responder given: pass --responder HOST")

// ErrResponderUntrusted: the responder's certificate neither verifies nor
// matches the pinned fingerprint, so the token was not sent.
var ErrResponderUntrusted = errors.New("untrusted responder certificate")

// errPinMismatch: the certificate is not the pinned one.
var errPinMismatch = errors.New("certificate does not match --responder-fingerprint")

// ResponderURL is the base URL ("https://host:port") of the responder's
// control endpoint named by cfg.Responder ("HOST", "HOST:PORT",
// "[v6]:PORT" or a bare IPv6 address), and its host. The port defaults to
// DefaultResponderPort.
func ResponderURL(r string) (base, host string, err error) {
	r = strings.TrimSpace(r)
	if r == "" {
		return "", "", ErrNoResponder
	}
	if strings.Contains(r, "://") {
		return "", "", fmt.Errorf("--responder %q: give HOST or HOST:PORT, not a URL", r)
	}
	host, port := r, strconv.Itoa(DefaultResponderPort)
	if _, err := netip.ParseAddr(strings.Trim(r, "[]")); err == nil {
		host = strings.Trim(r, "[]")
	} else if h, p, err := net.SplitHostPort(r); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("--responder %q: port %q is not a port number", r, p)
		}
		host, port = h, p
	}
	if host == "" || strings.ContainsAny(host, " /?#@") {
		return "", "", fmt.Errorf("--responder %q: not a host name or address", r)
	}
	return "https://" + net.JoinHostPort(host, port), host, nil
}

// ResponderEndpoint is how a client reaches a responder's control
// endpoint: its base URL, its host and an HTTPS client that sends the
// token only over a connection it trusts.
type ResponderEndpoint struct {
	Base, Host string
	Client     *http.Client
}

// Responder returns the endpoint of cfg.Responder. The policy, safe by
// default: with --responder-fingerprint the certificate must be that one;
// otherwise, with a token, it must verify against the system roots (plus
// --ca-file) for the host's name; without a token nothing secret
// travels, so any certificate is taken (an on-path attacker could forge
// receipts, as it could forge the UDP answers themselves).
func (cfg *Config) ResponderEndpoint() (*ResponderEndpoint, error) {
	base, host, err := ResponderURL(cfg.Responder)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host, RootCAs: cfg.RootCAs}
	switch {
	case cfg.ResponderFingerprint != "":
		pin, err := responder.ParseFingerprint(cfg.ResponderFingerprint)
		if err != nil {
			return nil, fmt.Errorf("--responder-fingerprint: %w", err)
		}
		tc.InsecureSkipVerify = true // replaced by the pin below
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || responder.Fingerprint(cs.PeerCertificates[0].Raw) != pin {
				return errPinMismatch
			}
			return nil
		}
	case cfg.ResponderToken == "":
		tc.InsecureSkipVerify = true
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: tc,
		DialContext: clockOf(cfg).DialTCP, ForceAttemptHTTP2: false} // the run's TCP silence bound
	return &ResponderEndpoint{Base: base, Host: host, Client: &http.Client{Transport: tr}}, nil
}

// TrustError turns a TLS verification failure of the endpoint into one
// line that says the token was not sent and how to pin the certificate;
// other errors come back unchanged.
func (e *ResponderEndpoint) TrustError(err error) error {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, errPinMismatch):
		return fmt.Errorf("%w: the responder at %s presents another certificate than --responder-fingerprint names; the token was not sent (a different responder, or something in the middle): check the fingerprint `ucprobe serve` printed", ErrResponderUntrusted, e.Host)
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci):
		return fmt.Errorf("%w: the responder at %s has a certificate this machine does not trust, so the token was not sent: pass --responder-fingerprint SHA256:... as `ucprobe serve` printed it (or `ucprobe serve --print-fingerprint` on the server)", ErrResponderUntrusted, e.Host)
	}
	return err
}

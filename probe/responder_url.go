package probe

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrNoResponder: a check that needs a responder ran without --responder.
var ErrNoResponder = errors.New("no responder given: pass --responder HOST")

// ResponderURL is the HTTP base URL ("http://host:port") of the responder
// named by cfg.Responder ("HOST", "HOST:PORT", "[v6]:PORT" or a bare IPv6
// address), and its host. The port defaults to DefaultResponderPort.
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
	return "http://" + net.JoinHostPort(host, port), host, nil
}

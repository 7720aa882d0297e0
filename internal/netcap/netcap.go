// Package netcap caps the connections a listener holds open at once.
// It is the one such listener in ucprobe: the exporter's HTTP endpoint
// and the responder's HTTPS control endpoint both wrap theirs in it.
package netcap

import (
	"net"
	"net/netip"
	"sync"
)

// Listener holds at most Max connections open at once and, when PerSource
// is above 0, at most PerSource from one source (Source). Past either it
// calls Refuse (when set) with the new connection and closes it at once,
// so the connections in use are never the ones that go. A connection
// counts from Accept until its first Close, so idle keep-alives count
// until the server drops them.
type Listener struct {
	net.Listener
	Max, PerSource int
	// Source groups connections for PerSource (nil: by address); a
	// connection whose remote address is not ip:port counts only in Max.
	Source func(netip.Addr) netip.Prefix
	// Refuse is called with each refused connection before it is closed
	// (to count it, or to write a last line to it).
	Refuse func(net.Conn)

	mu       sync.Mutex
	open     int
	bySource map[netip.Prefix]int
}

// New wraps ln: at most max connections, at most perSource (0: no bound)
// from one source.
func New(ln net.Listener, max, perSource int, source func(netip.Addr) netip.Prefix) *Listener {
	return &Listener{Listener: ln, Max: max, PerSource: perSource, Source: source}
}

// Open is the number of connections open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Accept returns the next connection within the caps.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if cc, ok := l.admit(c); ok {
			return cc, nil
		}
		if l.Refuse != nil {
			l.Refuse(c)
		}
		_ = c.Close()
	}
}

func (l *Listener) admit(c net.Conn) (net.Conn, bool) {
	k, keyed := l.key(c.RemoteAddr())
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.Max || keyed && l.bySource[k] >= l.PerSource {
		return nil, false
	}
	l.open++
	if keyed {
		if l.bySource == nil {
			l.bySource = map[netip.Prefix]int{}
		}
		l.bySource[k]++
	}
	return &conn{Conn: c, release: func() { l.release(k, keyed) }}, true
}

// key is the connection's source, when there is a per-source bound and the
// remote address is an IP address and port.
func (l *Listener) key(a net.Addr) (netip.Prefix, bool) {
	if l.PerSource <= 0 || a == nil {
		return netip.Prefix{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}, false
	}
	ip := ap.Addr().Unmap()
	if l.Source != nil {
		return l.Source(ip), true
	}
	return netip.PrefixFrom(ip, ip.BitLen()), true
}

func (l *Listener) release(k netip.Prefix, keyed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if !keyed {
		return
	}
	if l.bySource[k]--; l.bySource[k] <= 0 {
		delete(l.bySource, k)
	}
}

// conn gives its place back once, however often it is closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

package netcap

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
)

// fakeListener hands out the connections queued on it, then errClosed.
type fakeListener struct {
	conns []net.Conn
}

var errClosed = errors.New("listener closed")

func (f *fakeListener) Accept() (net.Conn, error) {
	if len(f.conns) == 0 {
		return nil, errClosed
	}
	c := f.conns[0]
	f.conns = f.conns[1:]
	return c, nil
}
func (f *fakeListener) Close() error   { return nil }
func (f *fakeListener) Addr() net.Addr { return fakeAddr("listener") }

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// fakeConn records whether it was closed.
type fakeConn struct {
	net.Conn
	from   string
	mu     sync.Mutex
	closed int
}

func (c *fakeConn) RemoteAddr() net.Addr { return fakeAddr(c.from) }
func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

// by24 groups IPv4 sources by /24 (a stand-in for the responder's key).
func by24(ip netip.Addr) netip.Prefix { p, _ := ip.Prefix(24); return p }

func TestListener(t *testing.T) {
	for _, tc := range []struct {
		name           string
		max, perSource int
		source         func(netip.Addr) netip.Prefix
		from           []string
		admitted       []bool // per connection, in order
	}{
		{"under the cap", 3, 0, nil, []string{"10.0.0.1:1", "10.0.0.1:2"}, []bool{true, true}},
		{"past the cap", 2, 0, nil, []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"}, []bool{true, true, false}},
		{"no per-source bound: one source fills the cap", 2, 0, nil, []string{"10.0.0.1:1", "10.0.0.1:2", "10.0.0.1:3"}, []bool{true, true, false}},
		{"past one source's share", 10, 2, nil, []string{"10.0.0.1:1", "10.0.0.1:2", "10.0.0.1:3", "10.0.0.2:1"}, []bool{true, true, false, true}},
		{"v4-mapped v6 is the v4 source", 10, 1, nil, []string{"10.0.0.1:1", "[::ffff:10.0.0.1]:2"}, []bool{true, false}},
		{"sources grouped by the key", 10, 2, by24, []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.1.1:1"}, []bool{true, true, false, true}},
		{"total cap across sources", 3, 2, nil, []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1"}, []bool{true, true, true, false}},
		{"no ip:port: counts only in the total", 2, 1, nil, []string{"@unix", "@unix", "@unix"}, []bool{true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fl := &fakeListener{}
			var conns []*fakeConn
			for _, f := range tc.from {
				c := &fakeConn{from: f}
				conns = append(conns, c)
				fl.conns = append(fl.conns, c)
			}
			var refused []net.Conn
			l := New(fl, tc.max, tc.perSource, tc.source)
			l.Refuse = func(c net.Conn) { refused = append(refused, c) }
			var got []net.Conn
			for {
				c, err := l.Accept()
				if err != nil {
					if !errors.Is(err, errClosed) {
						t.Fatalf("Accept: %v", err)
					}
					break
				}
				got = append(got, c)
			}
			want := 0
			for i, ok := range tc.admitted {
				if ok {
					want++
					if conns[i].closed != 0 {
						t.Errorf("connection %d (%s) admitted but closed", i, tc.from[i])
					}
					continue
				}
				if conns[i].closed != 1 || !slices.Contains(refused, net.Conn(conns[i])) {
					t.Errorf("connection %d (%s): closed %d times, refused %v; want refused and closed once", i, tc.from[i], conns[i].closed, slices.Contains(refused, net.Conn(conns[i])))
				}
			}
			if len(got) != want || l.Open() != want {
				t.Errorf("admitted %d, open %d; want %d", len(got), l.Open(), want)
			}
			// Closing gives the places back, once however often.
			for _, c := range got {
				_ = c.Close()
				_ = c.Close()
			}
			if l.Open() != 0 || len(l.bySource) != 0 {
				t.Errorf("after closing all: open %d, sources %v; want none", l.Open(), l.bySource)
			}
		})
	}
}

// A place given back admits the next connection from the same source.
func TestListenerReadmits(t *testing.T) {
	a, b := &fakeConn{from: "10.0.0.1:1"}, &fakeConn{from: "10.0.0.1:2"}
	fl := &fakeListener{conns: []net.Conn{a}}
	l := New(fl, 1, 1, nil)
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	fl.conns = append(fl.conns, b)
	if _, err := l.Accept(); err != nil || b.closed != 0 || l.Open() != 1 {
		t.Fatalf("after a close: %v, closed %d, open %d; want the next admitted", err, b.closed, l.Open())
	}
}

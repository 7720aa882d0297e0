//go:build linux

package responder

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// A multi-homed responder answers from the address each probe was sent
// to. Two namespaces joined by a veth pair: the server's side has two
// addresses per family (the route names the first as source), the
// client's side one. A probe to the second address must be answered from
// it; the same probe to a responder on the plain path (what the kernel
// does alone) is answered from the first: the control that shows the
// setup is the failing case.
func TestAnswerFromProbedAddress(t *testing.T) {
	srv, cli := testNetns(t), testNetns(t)
	nsRun(t, srv, "ip", "link", "add", "s0", "type", "veth", "peer", "name", "c0", "netns", cli)
	for _, a := range []string{"198.51.100.1/24", "198.51.100.2/24"} {
		nsRun(t, srv, "ip", "addr", "add", a, "dev", "s0")
	}
	for _, a := range []string{"2001:db8::1/64", "2001:db8::2/64"} {
		nsRun(t, srv, "ip", "addr", "add", a, "dev", "s0", "nodad")
	}
	nsRun(t, srv, "ip", "link", "set", "s0", "up")
	// Routing answers every client from the first address: IPv4 picks
	// the primary address anyway; IPv6 would pick either (by the order
	// the addresses were added), so a route with a lower metric than the
	// kernel's (256) names the first.
	nsRun(t, srv, "ip", "route", "replace", "198.51.100.0/24", "dev", "s0", "src", "198.51.100.1")
	nsRun(t, srv, "ip", "-6", "route", "add", "2001:db8::/64", "dev", "s0", "src", "2001:db8::1", "metric", "1")
	nsRun(t, cli, "ip", "addr", "add", "198.51.100.10/24", "dev", "c0")
	nsRun(t, cli, "ip", "addr", "add", "2001:db8::10/64", "dev", "c0", "nodad")
	nsRun(t, cli, "ip", "link", "set", "c0", "up")

	const (
		dual  = 3478 // all addresses, dual-stack AF_INET6 socket
		only4 = 3479 // Listen 0.0.0.0: an AF_INET socket
		plain = 3480 // all addresses, the plain path forced
	)
	var servers []*Server
	inNetns(t, srv, func() {
		for _, c := range []struct {
			port   int
			listen string
			plain  bool
		}{{dual, "", false}, {only4, "0.0.0.0", false}, {plain, "", true}} {
			s, err := New(Config{UDP: []Span{{c.port, c.port}}, Listen: c.listen})
			if err != nil {
				t.Error(err)
				return
			}
			s.plainUDP = c.plain
			if err := s.Start(context.Background()); err != nil {
				t.Error(err)
				return
			}
			servers = append(servers, s)
		}
	})
	for _, s := range servers {
		t.Cleanup(func() { _ = s.Close() })
	}
	if t.Failed() {
		t.FailNow()
	}
	var conn *net.UDPConn
	inNetns(t, cli, func() {
		var err error
		if conn, err = net.ListenUDP("udp", &net.UDPAddr{}); err != nil {
			t.Error(err)
		}
	})
	if conn == nil {
		t.FailNow()
	}
	t.Cleanup(func() { _ = conn.Close() })

	tests := []struct {
		name   string
		port   int
		to     string
		from   string // the answer's source address
		client string // the client's address (XOR-MAPPED-ADDRESS)
	}{
		{"IPv4 to the second address", dual, "198.51.100.2", "198.51.100.2", "198.51.100.10"},
		{"IPv4 to the first address", dual, "198.51.100.1", "198.51.100.1", "198.51.100.10"},
		{"IPv6 to the second address", dual, "2001:db8::2", "2001:db8::2", "2001:db8::10"},
		{"IPv6 to the first address", dual, "2001:db8::1", "2001:db8::1", "2001:db8::10"},
		{"IPv4-only socket, to the second address", only4, "198.51.100.2", "198.51.100.2", "198.51.100.10"},
		// The controls: without destination addresses the kernel answers
		// from the route's source, not from the probed address.
		{"plain path, IPv4 (control)", plain, "198.51.100.2", "198.51.100.1", "198.51.100.10"},
		{"plain path, IPv6 (control)", plain, "2001:db8::2", "2001:db8::1", "2001:db8::10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, "mh", nil)
			to := netip.AddrPortFrom(netip.MustParseAddr(tt.to), uint16(tt.port))
			if _, err := conn.WriteToUDPAddrPort(req.Raw, to); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2048)
			// The deadline only keeps a broken test from hanging.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			m := decode(t, buf[:n])
			if m.TransactionID != req.TransactionID {
				t.Fatal("answer to another request")
			}
			if got := from.Addr().Unmap(); got != netip.MustParseAddr(tt.from) || int(from.Port()) != tt.port {
				t.Errorf("probe to %s answered from %s, want %s", to, from, netip.AddrPortFrom(netip.MustParseAddr(tt.from), uint16(tt.port)))
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(m); err != nil {
				t.Fatal(err)
			}
			if got, _ := netip.AddrFromSlice(xor.IP); got.Unmap() != netip.MustParseAddr(tt.client) {
				t.Errorf("XOR-MAPPED-ADDRESS %s, want %s", xor.IP, tt.client)
			}
		})
	}
	for _, s := range servers {
		if st := s.Stats(); st.SendErrors != 0 {
			t.Errorf("%d send errors", st.SendErrors)
		}
	}
	if servers[0].srcWarned.Load() || servers[1].srcWarned.Load() {
		t.Error("a send from the destination address failed and fell back")
	}
}

// Bound to one address, nothing changes: the plain path. Bound to all,
// each socket reads destination addresses (no root needed to check).
func TestPktinfoOnlyWhenListeningOnAll(t *testing.T) {
	for _, tt := range []struct {
		listen string
		want   bool
	}{{loopback, false}, {"::1", false}, {"", true}, {"0.0.0.0", true}, {"::", true}} {
		s, err := New(Config{UDP: []Span{{1, 1}}, Listen: tt.listen})
		if err != nil {
			t.Fatal(err)
		}
		// Port 0: this checks the socket's set-up, not the network.
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.udpSocket(c).pi != nil; got != tt.want {
			t.Errorf("Listen %q: destination addresses %v, want %v", tt.listen, got, tt.want)
		}
		c.Close()
	}
}

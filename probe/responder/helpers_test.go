package responder

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

const loopback = "127.0.0.1"

// freeBlock finds n consecutive ports free for UDP and TCP on loopback.
// The ports are released again: a tiny race with other processes, which
// a retry in the caller's start absorbs in practice.
func freeBlock(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 20000 + rand.IntN(40000)
		var closers []func() error
		ok := true
		for p := base; p < base+n; p++ {
			u, err := net.ListenPacket("udp", net.JoinHostPort(loopback, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, u.Close)
			l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, l.Close)
		}
		for _, c := range closers {
			_ = c()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports on %s", n, loopback)
	return 0
}

// startServer starts a responder on loopback with an HTTP endpoint on a
// random port; Cleanup closes it.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Listen = loopback
	if cfg.HTTP == "" {
		cfg.HTTP = net.JoinHostPort(loopback, "0")
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// client is a UDP socket on loopback that probes the responder.
type client struct {
	t    *testing.T
	conn *net.UDPConn
}

func newClient(t *testing.T) *client {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(loopback+":0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, conn: c}
}

func (c *client) addr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (c *client) send(port int, b []byte) {
	c.t.Helper()
	to := netip.AddrPortFrom(netip.MustParseAddr(loopback), uint16(port))
	if _, err := c.conn.WriteToUDPAddrPort(b, to); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one datagram. The deadline only keeps a broken test from
// hanging; no test asserts on how long anything took.
func (c *client) recv() ([]byte, netip.AddrPort) {
	c.t.Helper()
	buf := make([]byte, 2048)
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := c.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		c.t.Fatalf("no answer: %v", err)
	}
	return buf[:n], from
}

// expectFirstAnswerTo proves silence without a timeout: after the packets
// that must stay unanswered, the client sends a good request to the same
// port; the responder handles a socket's packets in order, so the first
// datagram back must answer the good one.
func (c *client) expectFirstAnswerTo(port int, good *stun.Message) *stun.Message {
	c.t.Helper()
	c.send(port, good.Raw)
	b, _ := c.recv()
	m := decode(c.t, b)
	if m.TransactionID != good.TransactionID {
		c.t.Fatalf("first answer is not for the good request: a packet that must stay silent was answered")
	}
	return m
}

func decode(t *testing.T, b []byte) *stun.Message {
	t.Helper()
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil {
		t.Fatalf("answer does not decode: %v", err)
	}
	return m
}

func mustRequest(t *testing.T, session string, key stun.MessageIntegrity) *stun.Message {
	t.Helper()
	m, err := NewRequest(session, key)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitPackets polls until the responder has seen n packets (the answer
// path is asynchronous); the deadline only bounds a broken test.
func waitPackets(t *testing.T, s *Server, n uint64) Stats {
	t.Helper()
	// Packets counts on arrival and the outcome just after: wait for the
	// outcomes, so a snapshot never misses the last one.
	var st Stats
	if !probetest.Eventually(5*time.Second, func() bool {
		st = s.Stats()
		return st.Packets >= n && st.Answered+st.RateLimited+st.TooLarge+st.Malformed+st.NotBinding+st.Unauthenticated >= n
	}) {
		t.Fatalf("responder saw %d packets, want %d", st.Packets, n)
	}
	return st
}

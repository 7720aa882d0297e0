package responder

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// Close ends every goroutine (a TCP connection held open included) and
// releases every socket: the ports can be bound again.
func TestCloseLeavesNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	base := freeBlock(t, 21)
	s, err := New(Config{UDP: []Span{{base, base + 19}}, TCP: []int{base + 20}, Listen: loopback, HTTP: loopback + ":0", TCPIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	held, err := net.Dial("tcp", net.JoinHostPort(loopback, strconv.Itoa(base+20)))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	resp, err := (&net.Dialer{}).Dial("tcp", s.HTTPAddr()) // an idle HTTP connection
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	c := newClient(t)
	c.send(base, mustRequest(t, "close", nil).Raw)
	c.recv()

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close() // twice is fine
	// The held TCP connection was closed by the responder.
	_ = held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := held.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("held connection still open after Close: %v", err)
	}
	for p := base; p <= base+20; p++ {
		u, err := net.ListenPacket("udp", net.JoinHostPort(loopback, strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("UDP %d still bound after Close: %v", p, err)
		}
		u.Close()
	}
	l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(base+20)))
	if err != nil {
		t.Fatalf("TCP still bound after Close: %v", err)
	}
	l.Close()
	held.Close()
	resp.Close()
	c.conn.Close()
	waitGoroutines(t, before)
}

// isReset: the peer closed the connection (EOF or RST). A read deadline
// is an *net.OpError too and must not count: it means nobody closed it.
func isReset(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// waitGoroutines polls briefly: goroutines of closed test sockets may
// take a moment to leave the runtime's count.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	probetest.WaitGoroutines(t, want, 5*time.Second)
}

// The end of Start's context closes the server as Close does.
func TestContextEndCloses(t *testing.T) {
	before := runtime.NumGoroutine()
	base := freeBlock(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(Config{UDP: []Span{{base, base + 1}}, Listen: loopback})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	_ = s.Close() // waits for the close the context started
	u, err := net.ListenPacket("udp", net.JoinHostPort(loopback, strconv.Itoa(base)))
	if err != nil {
		t.Fatalf("still bound: %v", err)
	}
	u.Close()
	waitGoroutines(t, before)
}

// TCP: accepted, nothing echoed, closed after the idle time.
func TestTCPAcceptsAndCloses(t *testing.T) {
	base := freeBlock(t, 1)
	s := startServer(t, Config{TCP: []int{base}, TCPIdle: 50 * time.Millisecond})
	conn, err := net.Dial("tcp", net.JoinHostPort(loopback, strconv.Itoa(base)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("hello, anybody there?")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, conn)
	if n != 0 {
		t.Errorf("the responder sent %d bytes back", n)
	}
	if err != nil && !isReset(err) {
		t.Errorf("connection not closed by the responder: %v", err)
	}
	if sum := s.Clients(); len(sum) != 1 || sum[0].TCP != 1 {
		t.Errorf("summary %+v", sum)
	}
}

func TestHTTPBindFailureIsAnError(t *testing.T) {
	l, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	base := freeBlock(t, 1)
	s, err := New(Config{UDP: []Span{{base, base}}, Listen: loopback, HTTP: l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil {
		s.Close()
		t.Fatal("Start succeeded with the HTTP port in use")
	}
	// Nothing is left bound.
	u, err := net.ListenPacket("udp", net.JoinHostPort(loopback, strconv.Itoa(base)))
	if err != nil {
		t.Fatalf("UDP left bound after a failed Start: %v", err)
	}
	u.Close()
}

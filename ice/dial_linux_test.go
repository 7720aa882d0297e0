//go:build linux

package ice

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"golang.org/x/sys/unix"

	"github.com/ucprobe/ucprobe/probe"
)

// blackholeTCP listens on ip with a backlog of 0 and fills the accept
// queue, so the kernel drops every further SYN: a dial there hangs for
// the SYN retries (about 130 s), as against a firewall that drops the
// TURN server.
func blackholeTCP(t *testing.T, ip string) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	sa := &unix.SockaddrInet4{Addr: [4]byte(net.ParseIP(ip).To4())}
	if err := unix.Bind(fd, sa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := got.(*unix.SockaddrInet4).Port
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp4", addr, 300*time.Millisecond)
		if err != nil {
			return port // the queue is full: SYNs go unanswered
		}
		t.Cleanup(func() { _ = c.Close() })
		if i > 16 {
			t.Fatal("the accept queue does not fill")
		}
	}
}

// silentTCP accepts connections and never says a word (a TLS server that
// never completes the handshake, a TURN server that never answers).
func silentTCP(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
	})
	return l.Addr().(*net.TCPAddr).Port
}

// A TURN server over TCP whose SYNs are dropped, or that accepts and
// never answers (plain or TLS): the check ends well before a generous
// deadline and leaves no goroutine behind. Before the bounded dial, the
// agent's Close waited about 130 s for pion's TURN-over-TCP dial.
func TestTURNOverTCPBlackhole(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	hole := blackholeTCP(t, "127.0.0.6")
	silent := silentTCP(t, "127.0.0.6")
	timing := DefaultTiming
	for _, tc := range []struct {
		name string
		tr   probe.Transport
		port int
		mode probe.ICEMode
	}{
		{"tcp syn dropped relay-relay", probe.TransportTCP, hole, ModeRelayRelay},
		{"tcp syn dropped one-ended", probe.TransportTCP, hole, ModeOneEnded},
		{"tls syn dropped", probe.TransportTLS, hole, ModeRelayRelay},
		{"tcp silent", probe.TransportTCP, silent, ModeRelayRelay},
		{"tls handshake never completes", probe.TransportTLS, silent, ModeRelayRelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Checker{IPFilter: loopbackOnly, Loopback: true, Timing: timing}
			spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.6", Port: tc.port, Mode: string(tc.mode), Transport: tc.tr}
			res := watchdog(t, 20*time.Second, func(ctx context.Context) probe.Result {
				return c.Check(ctx, spec, &probe.Config{TURN: creds()})
			})
			if res.Status != probe.StatusFail {
				t.Fatalf("%s %s: %s", res.Status, res.Class, res.Error)
			}
			t.Logf("%s %s: %s", res.Status, res.Class, res.Error)
		})
	}
	t.Run("responder", func(t *testing.T) {
		r, err := NewResponderHandler(ResponderConfig{Servers: []string{fmt.Sprintf("turn:127.0.0.6:%d?transport=tcp", hole)},
			TURNUser: testUser, TURNPass: testPass, IPFilter: loopbackOnly, Loopback: true, Token: testToken})
		if err != nil {
			t.Fatal(err)
		}
		addr := serve(t, r)
		spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
		res := watchdog(t, 20*time.Second, func(ctx context.Context) probe.Result {
			c := &Checker{IPFilter: loopbackOnly, Loopback: true}
			return c.Check(ctx, spec, pinned(&probe.Config{Responder: addr, TURN: creds()}))
		})
		// Host candidates on loopback still connect; a dead TURN server
		// must not cost the check its deadline.
		if res.Status == probe.StatusSkip || res.Class == probe.ClassCanceled {
			t.Errorf("two-ended check %s %s: %s", res.Status, res.Class, res.Error)
		}
		t.Logf("%s %s: %s", res.Status, res.Class, res.Error)
		closed := make(chan struct{})
		go func() {
			_ = r.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(20 * time.Second):
			t.Fatal("the responder's Close did not return within 20 s")
		}
	})
}

// watchdog runs fn with a context that ends at bound and fails the test
// when fn took more than half of it, or had not returned a little after it.
func watchdog(t *testing.T, bound time.Duration, fn func(context.Context) probe.Result) probe.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	out := make(chan probe.Result, 1)
	start := time.Now()
	go func() { out <- fn(ctx) }()
	select {
	case res := <-out:
		took := time.Since(start)
		t.Logf("returned after %v", took.Round(time.Millisecond))
		// The dial's own bound is the gathering bound (seconds): a check
		// that only stops at the context's end did not bound its dial.
		if took > bound/2 {
			t.Errorf("the check took %v: it waited for the context (%v), not for its own dial bound", took.Round(time.Millisecond), bound)
		}
		return res
	case <-time.After(bound + 2*time.Second):
		t.Fatalf("the check did not return within %v of its %v deadline", 2*time.Second, bound)
		return probe.Result{}
	}
}

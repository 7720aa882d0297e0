package responder

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// A loopback pair with the server's socket set up as serveUDP sets it
// up (destination addresses on or off). No root needed: bound to one
// address, so it is built by hand rather than by Config.Listen.
type udpPair struct {
	srv *udpSocket
	cli *net.UDPConn
	to  netip.AddrPort
}

func newUDPPair(tb testing.TB, addr string, pktinfo bool) *udpPair {
	tb.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(addr), 0)))
	if err != nil {
		probetest.Unavailable(tb, "no %s to test on: %v", addr, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	u := &udpSocket{c: c}
	if pktinfo {
		if u.pi, err = newPktinfo(c); err != nil {
			if runtime.GOOS == "linux" { // where the code path must work
				tb.Fatalf("destination addresses: %v", err)
			}
			tb.Skipf("no destination addresses on %s: %v", runtime.GOOS, err)
		}
	}
	cli, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(addr), 0)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cli.Close() })
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	_ = cli.SetDeadline(time.Now().Add(time.Minute))
	return &udpPair{srv: u, cli: cli, to: c.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// roundTrip: the client sends req, the server reads it, answers it the
// way serveUDP does, the client reads the answer.
func (p *udpPair) roundTrip(tb testing.TB, s *Server, sc *scratch, req, buf, cbuf []byte) (netip.Addr, netip.AddrPort) {
	if _, err := p.cli.WriteToUDPAddrPort(req, p.to); err != nil {
		tb.Fatal(err)
	}
	n, from, dst, err := p.srv.read(buf)
	if err != nil {
		tb.Fatal(err)
	}
	out := s.handlePacket(sc, p.to.Port(), buf[:n], from)
	if out == nil {
		tb.Fatal("no answer")
	}
	if err := p.srv.write(out, from, dst); err != nil {
		tb.Fatal(err)
	}
	_, src, err := p.cli.ReadFromUDPAddrPort(cbuf)
	if err != nil {
		tb.Fatal(err)
	}
	return dst, src
}

// Reading destination addresses and answering from them costs no more
// than one allocation a packet over the plain path (x/net's control
// message parser allocates its list; the outgoing control message is
// marshalled once per address). Where the system has no destination
// addresses it is the plain path and skips.
func TestPktinfoAllocs(t *testing.T) {
	s, err := New(Config{UDP: []Span{{1, 1}}, Rate: RateLimits{PerSource: -1, Global: -1}})
	if err != nil {
		t.Fatal(err)
	}
	req := mustRequest(t, "allocs", nil).Raw
	for _, addr := range []string{"127.0.0.1", "::1"} {
		allocs := map[bool]float64{}
		for _, pi := range []bool{false, true} {
			p := newUDPPair(t, addr, pi)
			var sc scratch
			buf, cbuf := make([]byte, 2048), make([]byte, 2048)
			dst, src := p.roundTrip(t, s, &sc, req, buf, cbuf)
			if pi && (dst != netip.MustParseAddr(addr) || src.Addr().Unmap() != dst) {
				t.Errorf("%s: destination %v, answered from %v", addr, dst, src)
			}
			allocs[pi] = testing.AllocsPerRun(200, func() { p.roundTrip(t, s, &sc, req, buf, cbuf) })
		}
		t.Logf("%s: allocations a packet: plain %.1f, destination addresses %.1f", addr, allocs[false], allocs[true])
		if allocs[true] > allocs[false]+1 {
			t.Errorf("%s: %.1f allocations a packet with destination addresses, %.1f plain", addr, allocs[true], allocs[false])
		}
	}
}

// BenchmarkUDPAnswer: one request answered over loopback, plain and with
// destination addresses (go test -bench UDPAnswer -benchmem).
func BenchmarkUDPAnswer(b *testing.B) {
	s, err := New(Config{UDP: []Span{{1, 1}}, Rate: RateLimits{PerSource: -1, Global: -1}})
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewRequest("bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	req := m.Raw
	for _, pi := range []bool{false, true} {
		name := "plain"
		if pi {
			name = "pktinfo"
		}
		b.Run(name, func(b *testing.B) {
			p := newUDPPair(b, "127.0.0.1", pi)
			var sc scratch
			buf, cbuf := make([]byte, 2048), make([]byte, 2048)
			b.ReportAllocs()
			for b.Loop() {
				p.roundTrip(b, s, &sc, req, buf, cbuf)
			}
		})
	}
}

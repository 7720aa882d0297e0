//go:build linux

package probe

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// closedUDPPort returns a port on addr that nothing listens on (bound once,
// then released).
func closedUDPPort(t *testing.T, network, addr string) int {
	t.Helper()
	c, err := net.ListenPacket(network, net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	_ = c.Close()
	return port
}

// sendAndCollect sends one datagram from conn to dst and drains the error
// queue until an error arrives, with a bounded number of polls.
func sendAndCollect(t *testing.T, conn *net.UDPConn, dst netip.AddrPort) []ICMPError {
	t.Helper()
	if _, err := conn.WriteToUDPAddrPort([]byte("ucprobe"), dst); err != nil {
		t.Fatalf("send to %s: %v", dst, err)
	}
	var errs []ICMPError
	probetest.Eventually(time.Second, func() bool { errs = ReadICMPErrors(conn); return len(errs) > 0 })
	return errs
}

func TestICMPErrorsLoopbackClosedPort(t *testing.T) {
	cases := []struct {
		name, listen, network, target string
		wantType, wantCode            uint8
	}{
		{"ipv4", "127.0.0.1:0", "udp4", "127.0.0.1", 3, 3},
		// A dual-stack AF_INET6 socket (what net.ListenUDP("udp", nil)
		// makes) sending to an IPv4 address gets the ICMPv4 error too.
		{"dual-stack to ipv4", ":0", "udp", "127.0.0.1", 3, 3},
		{"ipv6", "[::1]:0", "udp6", "::1", 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			la, err := net.ResolveUDPAddr(tc.network, tc.listen)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.ListenUDP(tc.network, la)
			if err != nil {
				probetest.Unavailable(t, "cannot listen on %s: %v", tc.listen, err)
			}
			defer conn.Close()
			if !EnableICMPErrors(conn) {
				t.Fatal("EnableICMPErrors = false on Linux")
			}
			port := closedUDPPort(t, tc.network, tc.target)
			dst := netip.AddrPortFrom(netip.MustParseAddr(tc.target), uint16(port))
			errs := sendAndCollect(t, conn, dst)
			if len(errs) != 1 {
				t.Fatalf("got %d ICMP errors, want 1: %+v", len(errs), errs)
			}
			e := errs[0]
			if e.Class != ClassRefused || e.Dest != dst || e.Type != tc.wantType || e.Code != tc.wantCode {
				t.Errorf("got %+v, want class refused, dest %s, type %d code %d", e, dst, tc.wantType, tc.wantCode)
			}
			if e.From != dst.Addr() {
				t.Errorf("offender %s, want %s", e.From, dst.Addr())
			}
			// The queue is drained: a second read finds nothing.
			if again := ReadICMPErrors(conn); len(again) != 0 {
				t.Errorf("second drain returned %+v", again)
			}
		})
	}
}

// TestICMPErrorsFirewall rejects UDP with iptables inside a namespace the
// test creates and checks that each reject type maps to its class and
// carries the original destination port.
func TestICMPErrorsFirewall(t *testing.T) {
	probetest.NeedBinary(t, "iptables", "iptables")
	probetest.NeedBinary(t, "ip6tables", "iptables")
	ns := testNetns(t)
	const (
		portProhibited = 40001
		portUnreach    = 40002
		portHostProhib = 40003
		portNetUnreach = 40004
		portClosed     = 40005
	)
	for _, rule := range [][]string{
		{"iptables", "-A", "INPUT", "-p", "udp", "--dport", "40001", "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"},
		{"iptables", "-A", "INPUT", "-p", "udp", "--dport", "40002", "-j", "REJECT", "--reject-with", "icmp-port-unreachable"},
		{"iptables", "-A", "INPUT", "-p", "udp", "--dport", "40003", "-j", "REJECT", "--reject-with", "icmp-host-prohibited"},
		{"iptables", "-A", "INPUT", "-p", "udp", "--dport", "40004", "-j", "REJECT", "--reject-with", "icmp-net-unreachable"},
		{"ip6tables", "-A", "INPUT", "-p", "udp", "--dport", "40001", "-j", "REJECT", "--reject-with", "icmp6-adm-prohibited"},
		{"ip6tables", "-A", "INPUT", "-p", "udp", "--dport", "40002", "-j", "REJECT", "--reject-with", "icmp6-port-unreachable"},
		{"ip6tables", "-A", "INPUT", "-p", "udp", "--dport", "40004", "-j", "REJECT", "--reject-with", "icmp6-no-route"},
	} {
		nsRun(t, ns, rule...)
	}
	var c4, c6 *net.UDPConn
	inNetns(t, ns, func() {
		var err error
		if c4, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Error(err)
		}
		if c6, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
			t.Error(err)
		}
	})
	if c4 == nil || c6 == nil {
		t.FailNow()
	}
	defer c4.Close()
	defer c6.Close()
	if !EnableICMPErrors(c4) || !EnableICMPErrors(c6) {
		t.Fatal("EnableICMPErrors = false")
	}
	cases := []struct {
		name      string
		conn      *net.UDPConn
		addr      string
		port      uint16
		class     ErrorClass
		typ, code uint8
	}{
		{"v4 admin-prohibited", c4, "127.0.0.1", portProhibited, ClassProhibited, 3, 13},
		{"v4 host-prohibited", c4, "127.0.0.1", portHostProhib, ClassProhibited, 3, 10},
		{"v4 reject port-unreachable", c4, "127.0.0.1", portUnreach, ClassRefused, 3, 3},
		{"v4 net-unreachable", c4, "127.0.0.1", portNetUnreach, ClassUnreachable, 3, 0},
		{"v4 closed port", c4, "127.0.0.1", portClosed, ClassRefused, 3, 3},
		{"v6 adm-prohibited", c6, "::1", portProhibited, ClassProhibited, 1, 1},
		{"v6 reject port-unreachable", c6, "::1", portUnreach, ClassRefused, 1, 4},
		{"v6 no-route", c6, "::1", portNetUnreach, ClassUnreachable, 1, 0},
		{"v6 closed port", c6, "::1", portClosed, ClassRefused, 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := netip.AddrPortFrom(netip.MustParseAddr(tc.addr), tc.port)
			errs := sendAndCollect(t, tc.conn, dst)
			if len(errs) != 1 {
				t.Fatalf("got %d ICMP errors, want 1: %+v", len(errs), errs)
			}
			e := errs[0]
			if e.Class != tc.class || e.Type != tc.typ || e.Code != tc.code {
				t.Errorf("got class %s type %d code %d, want %s %d/%d", e.Class, e.Type, e.Code, tc.class, tc.typ, tc.code)
			}
			if e.Dest != dst {
				t.Errorf("original destination %s, want %s", e.Dest, dst)
			}
		})
	}
}

func TestClassifyICMP(t *testing.T) {
	cases := []struct {
		v6        bool
		typ, code uint8
		want      ErrorClass
		ok        bool
	}{
		{false, 3, 3, ClassRefused, true},
		{false, 3, 9, ClassProhibited, true},
		{false, 3, 10, ClassProhibited, true},
		{false, 3, 13, ClassProhibited, true},
		{false, 3, 0, ClassUnreachable, true},
		{false, 3, 1, ClassUnreachable, true},
		{false, 3, 4, "", false}, // fragmentation needed: path MTU, not reachability
		{false, 11, 0, ClassUnreachable, true},
		{false, 0, 0, "", false}, // echo reply is no error
		{true, 1, 4, ClassRefused, true},
		{true, 1, 1, ClassProhibited, true},
		{true, 1, 0, ClassUnreachable, true},
		{true, 1, 3, ClassUnreachable, true},
		{true, 2, 0, "", false}, // packet too big
		{true, 3, 0, ClassUnreachable, true},
	}
	for _, tc := range cases {
		got, ok := classifyICMP(tc.v6, tc.typ, tc.code)
		if got != tc.want || ok != tc.ok {
			t.Errorf("classifyICMP(v6=%v, %d, %d) = %q, %v; want %q, %v", tc.v6, tc.typ, tc.code, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseExtendedErrShort(t *testing.T) {
	if _, ok := parseExtendedErr(make([]byte, 3), netip.AddrPort{}); ok {
		t.Error("a short control message parsed")
	}
	if _, ok := parseExtendedErr(make([]byte, sizeofSockExtendedErr), netip.AddrPort{}); ok {
		t.Error("origin none parsed as ICMP")
	}
}

// TestICMPErrorsReadSideEffect pins down what callers of an unconnected
// sweep socket see: with the error queue on, the next read returns the
// error once (refused), the queue still holds the details, and the read
// after that waits normally.
func TestICMPErrorsReadSideEffect(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !EnableICMPErrors(conn) {
		t.Fatal("EnableICMPErrors = false")
	}
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(closedUDPPort(t, "udp4", "127.0.0.1")))
	if _, err := conn.WriteToUDPAddrPort([]byte("x"), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var readErr error
	for range 100 { // until the ICMP has arrived
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, _, readErr = conn.ReadFromUDP(buf); Classify(readErr) != ClassTimeout {
			break
		}
	}
	if Classify(readErr) != ClassRefused {
		t.Fatalf("first read: %v (%s), want refused", readErr, Classify(readErr))
	}
	if errs := ReadICMPErrors(conn); len(errs) != 1 || errs[0].Dest != dst {
		t.Fatalf("queue after the read = %+v, want one error for %s", errs, dst)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := conn.ReadFromUDP(buf); Classify(err) != ClassTimeout {
		t.Errorf("second read: %v, want a plain timeout", err)
	}
}

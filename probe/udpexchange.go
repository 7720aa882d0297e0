package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v4"
)

// Transport helpers the UDP and stream probes share: the retransmitting
// request/answer exchange, stream dials, address and interface look-ups.

// Retransmit is a RFC 5389 section 7.2.1 retransmission schedule: the
// first wait is RTO, each next one doubles up to MaxRTO, and the last wait
// ends at the check's deadline. RFC 5389's own defaults (500 ms, 39.5 s in
// all) suit a phone; a diagnostic run has seconds, so ours are shorter.
type Retransmit struct {
	RTO    time.Duration
	MaxRTO time.Duration
}

// next is the wait after attempt n (0-based).
func (r Retransmit) next(n int) time.Duration {
	d := r.RTO
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	for i := 0; i < n; i++ {
		d *= 2
		if r.MaxRTO > 0 && d >= r.MaxRTO {
			return r.MaxRTO
		}
	}
	return d
}

// udpExchange is one STUN transaction on a UDP socket with retransmissions.
type udpExchange struct {
	conn      net.PacketConn
	connected bool
	to        netip.AddrPort
	// wait caps the whole transaction below the context's deadline (0: none).
	wait time.Duration
	// silence: the transaction ends after the clock's UDP silence bound
	// (Transmissions sends, paced by the clock's RTO), re-read at each
	// retransmission as round trips are measured; an answer feeds the clock.
	silence bool
	clock   *Clock
}

// do sends req and waits for the response with its transaction id,
// retransmitting per the schedule until ctx ends. It returns the source
// of the answer, the RTT of the attempt that was answered (measured from
// its last transmission) and how many requests went out.
func (x udpExchange) do(ctx context.Context, req *stun.Message, sched Retransmit) (*stun.Message, netip.AddrPort, time.Duration, int, error) {
	var end time.Time
	if d, ok := ctx.Deadline(); ok {
		end = d
	}
	if x.wait > 0 {
		if e := time.Now().Add(x.wait); end.IsZero() || e.Before(end) {
			end = e
		}
	}
	if end.IsZero() {
		end = time.Now().Add(3 * time.Second)
	}
	buf := make([]byte, 1500)
	attempts := 0
	var sent time.Time
	first, limit := time.Now(), end
	for n := 0; ; n++ {
		if x.silence {
			sched = x.clock.Schedule()
			end = limit
			if e := first.Add(x.clock.UDPSilence()); e.Before(limit) {
				end = e
			}
		}
		if ctx.Err() != nil || !time.Now().Before(end) {
			return nil, netip.AddrPort{}, 0, attempts, fmt.Errorf("%w from %s after %d %s", ErrNoAnswer, x.to, attempts, plural(attempts, "request", "requests"))
		}
		var err error
		if c, ok := x.conn.(net.Conn); ok && x.connected {
			_, err = c.Write(req.Raw)
		} else {
			_, err = x.conn.WriteTo(req.Raw, net.UDPAddrFromAddrPort(x.to))
		}
		if err != nil {
			return nil, netip.AddrPort{}, 0, attempts, icmpOr(x.conn, x.to, err)
		}
		attempts++
		sent = time.Now()
		waitEnd := sent.Add(sched.next(n))
		if waitEnd.After(end) {
			waitEnd = end
		}
		for {
			_ = x.conn.SetReadDeadline(waitEnd)
			if ctx.Err() != nil {
				_ = x.conn.SetReadDeadline(time.Now())
			}
			nr, fromAddr, err := x.conn.ReadFrom(buf)
			from := addrPortOf(fromAddr)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // retransmit
				}
				return nil, netip.AddrPort{}, 0, attempts, icmpOr(x.conn, x.to, err)
			}
			if !stun.IsMessage(buf[:nr]) {
				if from == x.to || x.connected {
					return nil, from, 0, attempts, fmt.Errorf("%w (%d bytes from %s)", ErrNotSTUN, nr, from)
				}
				continue
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:nr]...)}
			if m.Decode() != nil || m.TransactionID != req.TransactionID {
				continue
			}
			rtt := time.Since(sent)
			if x.silence && attempts == 1 { // Karn: a retransmitted request's answer is ambiguous
				x.clock.Observe(x.to.Addr().Unmap().String(), rtt)
			}
			return m, from, rtt, attempts, nil
		}
	}
}

// icmpOr prefers the detailed ICMP error from the OS's queue for a send
// to `to` (any when the error names no destination) over err.
func icmpOr(conn net.PacketConn, to netip.AddrPort, err error) error {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return err
	}
	for _, e := range ReadICMPErrors(uc) {
		if !e.Dest.IsValid() || e.Dest == to {
			return &icmpErr{e}
		}
	}
	return err
}

// dialStream connects over TCP, or TCP plus TLS (trusting cfg.RootCAs).
func dialStream(ctx context.Context, spec Spec, cfg *Config, tr Transport) (net.Conn, error) {
	conn, err := dialTCP(ctx, spec, cfg)
	if err != nil || tr != TransportTLS {
		return conn, err
	}
	tc := tls.Client(conn, &tls.Config{ServerName: spec.ServerName(), RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

// resolveUDP returns the address to probe (the runner resolved names
// already; a name here is resolved by the configured resolver).
func resolveUDP(ctx context.Context, cfg *Config, spec Spec) (netip.AddrPort, error) {
	host := spec.DialHost()
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(spec.Port)), nil
	}
	addrs, err := ResolverOf(cfg).LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(addrs) == 0 {
		return netip.AddrPort{}, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), uint16(spec.Port)), nil
}

// localIPFor is the source address the OS picks for dst (a UDP connect
// sends nothing). It fails with ENETUNREACH when there is no route.
func localIPFor(dst netip.AddrPort) (netip.Addr, error) {
	c, err := net.DialUDP(udpNet(dst), nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// addrPortOf converts a UDP net.Addr (real or vnet) to an AddrPort.
func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func udpNet(a netip.AddrPort) string {
	if a.Addr().Is4() {
		return "udp4"
	}
	return "udp6"
}

// interfaceOf names the local interface that holds ip.
func interfaceOf(ip netip.Addr) string {
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, i := range ifs {
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ip.Unmap() {
				return i.Name
			}
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

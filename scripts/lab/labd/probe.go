//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

// Probes print one line that starts with an error class from ucprobe's
// contract: ok, refused, timeout, unreachable, prohibited (or error), then
// details; exit status 0 only for ok. They exist so lab tests can assert a
// fault with a plain tool instead of ucprobe itself.

const ipRecvErr = 11 // IP_RECVERR

func setRecvErr(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipRecvErr, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

func errnoClass(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		switch en {
		case syscall.ECONNREFUSED:
			return "refused"
		case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EHOSTDOWN, syscall.ENONET:
			return "unreachable"
		case syscall.EACCES, syscall.EPERM:
			return "prohibited"
		case syscall.ETIMEDOUT:
			return "timeout"
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "error"
}

type icmpInfo struct {
	typ, code uint8
	from      netip.Addr
	errno     syscall.Errno
}

func (i icmpInfo) class() string {
	if i.typ == 3 {
		switch i.code {
		case 3:
			return "refused"
		case 9, 10, 13:
			return "prohibited"
		}
		return "unreachable"
	}
	return "unreachable"
}

func (i icmpInfo) String() string {
	return fmt.Sprintf("icmp type=%d code=%d from=%s errno=%s", i.typ, i.code, i.from, i.errno)
}

// readErrQueue drains one queued ICMP error of a socket with IP_RECVERR.
func readErrQueue(c *net.UDPConn) (icmpInfo, bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return icmpInfo{}, false
	}
	var info icmpInfo
	var ok bool
	_ = rc.Control(func(fd uintptr) {
		buf := make([]byte, 512)
		oob := make([]byte, 512)
		_, oobn, _, _, err := syscall.Recvmsg(int(fd), buf, oob, syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
		if err != nil {
			return
		}
		msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.Header.Level != syscall.IPPROTO_IP || m.Header.Type != ipRecvErr || len(m.Data) < 16 {
				continue
			}
			// struct sock_extended_err { u32 errno; u8 origin, type, code, pad; u32 info, data; } + offender
			info.errno = syscall.Errno(binary.NativeEndian.Uint32(m.Data[0:]))
			if m.Data[4] != 2 { // SO_EE_ORIGIN_ICMP
				continue
			}
			info.typ, info.code = m.Data[5], m.Data[6]
			if len(m.Data) >= 16+8 && binary.NativeEndian.Uint16(m.Data[16:]) == syscall.AF_INET {
				info.from = netip.AddrFrom4([4]byte(m.Data[20:24]))
			}
			ok = true
		}
	})
	return info, ok
}

func cmdProbe(args []string) int {
	if len(args) < 2 || (args[0] != "tcp" && args[0] != "udp") {
		usage()
	}
	proto, target := args[0], args[1]
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	timeout := fs.Duration("timeout", time.Second, "give up after")
	count := fs.Int("count", 1, "udp: STUN binding requests to send (loss measurement)")
	interval := fs.Duration("interval", 2*time.Millisecond, "udp: gap between requests")
	_ = fs.Parse(args[2:])
	if proto == "tcp" {
		return probeTCP(target, *timeout)
	}
	return probeUDP(target, *timeout, *count, *interval)
}

func probeTCP(target string, timeout time.Duration) int {
	d := net.Dialer{Timeout: timeout, Control: setRecvErr}
	start := time.Now()
	c, err := d.Dial("tcp4", target)
	rtt := time.Since(start)
	if err != nil {
		fmt.Printf("%s tcp %s after=%s err=%q\n", errnoClass(err), target, rtt.Round(time.Microsecond), err.Error())
		return 1
	}
	fmt.Printf("ok tcp %s local=%s rtt=%s\n", target, c.LocalAddr(), rtt.Round(time.Microsecond))
	c.Close()
	return 0
}

func probeUDP(target string, timeout time.Duration, count int, interval time.Duration) int {
	raddr, err := net.ResolveUDPAddr("udp4", target)
	if err != nil {
		fmt.Printf("error udp %s err=%q\n", target, err.Error())
		return 1
	}
	d := net.Dialer{Control: setRecvErr}
	nc, err := d.Dial("udp4", raddr.String())
	if err != nil {
		fmt.Printf("%s udp %s err=%q\n", errnoClass(err), target, err.Error())
		return 1
	}
	c := nc.(*net.UDPConn)
	defer c.Close()
	sent := map[[12]byte]time.Time{}
	start := time.Now()
	var firstErr error
	var icmp *icmpInfo
	got := 0
	var minRTT time.Duration
	replies := make(chan [12]byte, count)
	errs := make(chan error, 1)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
					close(replies)
					return
				}
				select {
				case errs <- err:
				default:
				}
				continue
			}
			if m, err := decodeSTUN(buf[:n]); err == nil {
				replies <- m.txid
			}
		}
	}()
	for i := 0; i < count; i++ {
		m := &stunMsg{typ: stunBindingRequest, txid: newTxID()}
		sent[m.txid] = time.Now()
		if _, err := c.Write(m.encode(nil)); err != nil && firstErr == nil {
			firstErr = err
		}
		if count > 1 {
			time.Sleep(interval)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	seen := map[[12]byte]bool{}
loop:
	for {
		select {
		case id, ok := <-replies:
			if !ok {
				break loop
			}
			if t, mine := sent[id]; mine && !seen[id] {
				seen[id] = true
				got++
				if r := time.Since(t); minRTT == 0 || r < minRTT {
					minRTT = r
				}
				if got == count {
					break loop
				}
			}
		case err := <-errs:
			if firstErr == nil {
				firstErr = err
			}
			if info, ok := readErrQueue(c); ok && icmp == nil {
				icmp = &info
			}
			if count == 1 {
				break loop
			}
		}
	}
	elapsed := time.Since(start).Round(time.Microsecond)
	if got > 0 {
		fmt.Printf("ok udp %s sent=%d received=%d loss=%.1f%% rtt_min=%s\n", target, count, got,
			100*float64(count-got)/float64(count), minRTT.Round(time.Microsecond))
		return 0
	}
	if icmp != nil {
		fmt.Printf("%s udp %s %s after=%s\n", icmp.class(), target, icmp, elapsed)
		return 1
	}
	if firstErr != nil {
		fmt.Printf("%s udp %s after=%s err=%q\n", errnoClass(firstErr), target, elapsed, firstErr.Error())
		return 1
	}
	fmt.Printf("timeout udp %s sent=%d received=0 after=%s\n", target, count, elapsed)
	return 1
}

// cmdSTUN sends a Binding request to each server from ONE local socket and
// prints the mapped address each saw: different mapped ports for different
// servers mean an address-dependent (symmetric) NAT mapping.
func cmdSTUN(args []string) int {
	fs := flag.NewFlagSet("stun", flag.ExitOnError)
	timeout := fs.Duration("timeout", time.Second, "per-server timeout")
	tries := fs.Int("tries", 3, "requests per server")
	_ = fs.Parse(args)
	if fs.NArg() == 0 {
		usage()
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer c.Close()
	fmt.Printf("local %s\n", c.LocalAddr())
	var mapped []netip.AddrPort
	failed := 0
	for _, s := range fs.Args() {
		if !strings.Contains(s, ":") {
			s += ":3478"
		}
		ra, err := net.ResolveUDPAddr("udp4", s)
		if err != nil {
			fmt.Printf("server %s error=%q\n", s, err.Error())
			failed++
			continue
		}
		m := &stunMsg{typ: stunBindingRequest, txid: newTxID()}
		var resp *stunMsg
		buf := make([]byte, 2048)
		for try := 0; try < *tries && resp == nil; try++ {
			_, _ = c.WriteToUDP(m.encode(nil), ra)
			_ = c.SetReadDeadline(time.Now().Add(*timeout / time.Duration(*tries)))
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					break
				}
				if r, err := decodeSTUN(buf[:n]); err == nil && r.txid == m.txid {
					resp = r
					break
				}
			}
		}
		if resp == nil {
			fmt.Printf("server %s timeout\n", ra)
			failed++
			continue
		}
		line := fmt.Sprintf("server %s", ra)
		if v := resp.get(attrXORMappedAddress); v != nil {
			if ap, err := parseXORAddr(v, resp.txid); err == nil {
				line += " mapped=" + ap.String()
				mapped = append(mapped, ap)
			}
		}
		if v := resp.get(attrOtherAddress); v != nil {
			if ap, err := parsePlainAddr(v); err == nil {
				line += " other=" + ap.String()
			}
		}
		if v := resp.get(attrResponseOrigin); v != nil {
			if ap, err := parsePlainAddr(v); err == nil {
				line += " origin=" + ap.String()
			}
		}
		fmt.Println(line)
	}
	if len(mapped) >= 2 {
		same := true
		for _, m := range mapped[1:] {
			if m != mapped[0] {
				same = false
			}
		}
		if same {
			fmt.Println("mapping endpoint-independent")
		} else {
			fmt.Println("mapping address-dependent")
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func init() {
	// Probes must not linger in tests.
	if len(os.Args) > 1 && (os.Args[1] == "probe" || os.Args[1] == "stun" || os.Args[1] == "turn") {
		stopAfter(2 * time.Minute)
	}
}

//go:build linux

package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// A VPN like the SSL VPNs that carry only TCP: IP packets from a tun device
// are framed (2-byte big-endian length + packet) over ONE TCP connection to
// the peer, which writes them to its own tun device. UDP packets (IPv4
// protocol 17, IPv6 next header 17) are dropped in both directions unless
// --allow-udp; everything else (TCP, ICMP) is carried.

const (
	tunSetIff = 0x400454ca // TUNSETIFF
	iffTun    = 0x0001
	iffNoPI   = 0x1000
)

func openTun(name string) (*os.File, error) {
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var ifr [40]byte // struct ifreq: name[16], flags short
	if len(name) >= 16 {
		syscall.Close(fd)
		return nil, fmt.Errorf("tun name %q too long", name)
	}
	copy(ifr[:16], name)
	binary.NativeEndian.PutUint16(ifr[16:], iffTun|iffNoPI)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF %s: %w", name, e)
	}
	// Non-blocking so the Go poller owns it and Close unblocks readers.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "tun:"+name), nil
}

type tunnel struct {
	tun      *os.File
	allowUDP bool

	mu   sync.Mutex
	conn net.Conn

	up, down, droppedUDP, droppedNoPeer atomic.Uint64
}

func isUDP(pkt []byte) bool {
	if len(pkt) < 1 {
		return false
	}
	switch pkt[0] >> 4 {
	case 4:
		return len(pkt) >= 20 && pkt[9] == 17
	case 6:
		return len(pkt) >= 40 && pkt[6] == 17
	}
	return false
}

func (t *tunnel) setConn(c net.Conn) {
	t.mu.Lock()
	old := t.conn
	t.conn = c
	t.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// tunLoop reads packets from the tun device and sends them to the current peer.
func (t *tunnel) tunLoop() {
	buf := make([]byte, 2+65535)
	for {
		n, err := t.tun.Read(buf[2:])
		if err != nil {
			log.Fatalf("tun read: %v", err)
		}
		pkt := buf[2 : 2+n]
		if !t.allowUDP && isUDP(pkt) {
			t.droppedUDP.Add(1)
			continue
		}
		binary.BigEndian.PutUint16(buf[:2], uint16(n))
		t.mu.Lock()
		c := t.conn
		if c != nil {
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(buf[:2+n]); err != nil {
				c.Close()
				t.conn = nil
			} else {
				t.up.Add(1)
			}
		} else {
			t.droppedNoPeer.Add(1)
		}
		t.mu.Unlock()
	}
}

// connLoop writes the packets the peer sends to the tun device, until the
// connection ends.
func (t *tunnel) connLoop(c net.Conn) {
	defer func() {
		t.mu.Lock()
		if t.conn == c {
			t.conn = nil
		}
		t.mu.Unlock()
		c.Close()
	}()
	var hdr [2]byte
	buf := make([]byte, 65535)
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, buf[:n]); err != nil {
			return
		}
		pkt := buf[:n]
		if !t.allowUDP && isUDP(pkt) {
			t.droppedUDP.Add(1)
			continue
		}
		if _, err := t.tun.Write(pkt); err != nil {
			log.Printf("tun write: %v", err)
			continue
		}
		t.down.Add(1)
	}
}

func (t *tunnel) statsLoop() {
	var last [4]uint64
	for range time.Tick(5 * time.Second) {
		now := [4]uint64{t.up.Load(), t.down.Load(), t.droppedUDP.Load(), t.droppedNoPeer.Load()}
		if now != last {
			log.Printf("packets to-peer=%d from-peer=%d dropped-udp=%d dropped-no-peer=%d", now[0], now[1], now[2], now[3])
			last = now
		}
	}
}

func cmdVPN(args []string) error {
	if len(args) < 1 || (args[0] != "server" && args[0] != "client") {
		usage()
	}
	mode := args[0]
	fs := flag.NewFlagSet("vpn "+mode, flag.ExitOnError)
	tunName := fs.String("tun", "tun0", "tun device `NAME` (created if missing; may pre-exist as a persistent tun)")
	listen := fs.String("listen", "", "server: listen `ADDR:PORT` (TCP)")
	connect := fs.String("connect", "", "client: connect to `ADDR:PORT` (TCP)")
	allowUDP := fs.Bool("allow-udp", false, "carry UDP too (default: drop it, like SSL VPNs that carry only TCP)")
	life := fs.Duration("lifetime", 2*time.Hour, "exit after this long (0: never)")
	_ = fs.Parse(args[1:])
	stopAfter(*life)
	tun, err := openTun(*tunName)
	if err != nil {
		return err
	}
	t := &tunnel{tun: tun, allowUDP: *allowUDP}
	go t.tunLoop()
	go t.statsLoop()
	switch mode {
	case "server":
		if *listen == "" {
			return fmt.Errorf("vpn server needs --listen")
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		log.Printf("vpn server on %s tun=%s allow-udp=%v", *listen, *tunName, *allowUDP)
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			log.Printf("vpn peer %s connected", c.RemoteAddr())
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetNoDelay(true)
				_ = tc.SetKeepAlivePeriod(5 * time.Second)
			}
			t.setConn(c) // the newest peer wins, like a VPN re-login
			go t.connLoop(c)
		}
	default:
		if *connect == "" {
			return fmt.Errorf("vpn client needs --connect")
		}
		log.Printf("vpn client to %s tun=%s allow-udp=%v", *connect, *tunName, *allowUDP)
		for {
			c, err := net.DialTimeout("tcp", *connect, 2*time.Second)
			if err != nil {
				time.Sleep(300 * time.Millisecond)
				continue
			}
			log.Printf("vpn connected to %s from %s", *connect, c.LocalAddr())
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetNoDelay(true)
				_ = tc.SetKeepAlivePeriod(5 * time.Second)
			}
			t.setConn(c)
			t.connLoop(c)
			log.Printf("vpn connection lost, reconnecting")
			time.Sleep(200 * time.Millisecond)
		}
	}
}

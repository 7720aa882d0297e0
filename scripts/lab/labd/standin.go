//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cmdStandin serves two purposes in the lab:
//
//   - STAND-IN for `ucprobe serve`, to be dropped once the real responder
//     exists: lab.sh starts it on the server only when
//     "$UCPROBE_BIN serve --help" fails. It takes the same flags.
//   - the echo host (echo.lab.example, --bind 203.0.113.40): a reflector the
//     lab's own tests probe, so their UDP assertions do not depend on what
//     the real responder answers.
//
// TCP ports accept and echo; UDP ports answer a STUN Binding request with
// XOR-MAPPED-ADDRESS and echo anything else; --http answers 200 on any
// path. It speaks no ucprobe responder protocol.

func parsePorts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad port %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		if a < 1 || b > 65535 {
			return nil, fmt.Errorf("port out of range %q", part)
		}
		for p := a; p <= b; p++ {
			out = append(out, p)
		}
	}
	return out, nil
}

func cmdStandin(args []string) error {
	fs := flag.NewFlagSet("standin", flag.ExitOnError)
	udp := fs.String("udp", "30000-33000,3478", "UDP `PORTS` (ranges, comma separated)")
	tcp := fs.String("tcp", "2230,7222", "TCP `PORTS`")
	httpAddr := fs.String("http", ":8480", "HTTP `ADDR` (empty: none)")
	bind := fs.String("bind", "", "bind the UDP and TCP ports to this `IP` only (default: all addresses)")
	life := fs.Duration("lifetime", 2*time.Hour, "exit after this long (0: never)")
	_ = fs.Parse(args)
	stopAfter(*life)
	uports, err := parsePorts(*udp)
	if err != nil {
		return err
	}
	tports, err := parsePorts(*tcp)
	if err != nil {
		return err
	}
	for _, p := range uports {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(*bind), Port: p})
		if err != nil {
			return fmt.Errorf("udp %d: %w", p, err)
		}
		go udpAnswer(c)
	}
	for _, p := range tports {
		ln, err := net.Listen("tcp", net.JoinHostPort(*bind, strconv.Itoa(p)))
		if err != nil {
			return fmt.Errorf("tcp %d: %w", p, err)
		}
		go tcpEcho(ln)
	}
	log.Printf("udp %s (%d ports) tcp %s http %q bind %q", *udp, len(uports), *tcp, *httpAddr, *bind)
	if *httpAddr == "" {
		select {}
	}
	srv := &http.Server{Addr: *httpAddr, ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "labd standin (stand-in for ucprobe serve)\n")
		})}
	return srv.ListenAndServe()
}

func udpAnswer(c *net.UDPConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := buf[:n]
		if m, err := decodeSTUN(pkt); err == nil && m.typ == stunBindingRequest {
			r := &stunMsg{typ: stunBindingSuccess, txid: m.txid}
			r.add(attrXORMappedAddress, xorAddr(from, m.txid))
			r.add(attrSoftware, []byte("labd-standin"))
			pkt = r.encode(nil)
		}
		_, _ = c.WriteToUDPAddrPort(pkt, from)
	}
}

func tcpEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}

//go:build linux

package main

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// cmdWSS runs the TLS + WebSocket endpoint: 101 with the right
// Sec-WebSocket-Accept for an Upgrade on any path (then a small echo), 200
// otherwise. With --refuse-upgrade it plays a proxy that completes TLS but
// answers the Upgrade with 403 and a Via header.
func cmdWSS(args []string) error {
	fs := flag.NewFlagSet("wss", flag.ExitOnError)
	listen := fs.String("listen", ":443", "listen `ADDR:PORT`")
	cert := fs.String("cert", "", "certificate chain `PEM`")
	key := fs.String("key", "", "private key `PEM`")
	refuse := fs.Bool("refuse-upgrade", false, "answer WebSocket upgrades with 403 Forbidden (Via: 1.1 labproxy)")
	name := fs.String("name", "labd-wss", "Server header")
	life := fs.Duration("lifetime", 2*time.Hour, "exit after this long (0: never)")
	_ = fs.Parse(args)
	stopAfter(*life)
	kp, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", *name)
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%s: ok %s %s\n", *name, r.Method, r.URL.Path)
			return
		}
		if *refuse {
			w.Header().Set("Via", "1.1 labproxy")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "WebSocket upgrade not allowed by proxy policy\n")
			return
		}
		wsAccept(w, r)
	})
	srv := &http.Server{
		Addr:              *listen,
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{kp}, NextProtos: []string{"http/1.1"}},
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // HTTP/1.1 only
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // aborted handshakes (untrusted CA) are the point
	}
	log.Printf("wss listening on %s refuse-upgrade=%v", *listen, *refuse)
	return srv.ListenAndServeTLS("", "")
}

func wsAccept(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
		http.Error(w, "bad websocket upgrade", http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	sum := sha1.Sum([]byte(key + wsGUID))
	buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	if buf.Flush() != nil {
		return
	}
	wsEcho(conn, buf.Reader)
}

// wsEcho echoes text/binary frames, answers ping with pong and close with
// close, for at most 30 s of idle time.
func wsEcho(conn net.Conn, rd *bufio.Reader) {
	for {
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		var hdr [2]byte
		if _, err := io.ReadFull(rd, hdr[:]); err != nil {
			return
		}
		op := hdr[0] & 0x0f
		masked := hdr[1]&0x80 != 0
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(rd, b[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(rd, b[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 1<<20 {
			return
		}
		var mask [4]byte
		if masked {
			if _, err := io.ReadFull(rd, mask[:]); err != nil {
				return
			}
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(rd, payload); err != nil {
			return
		}
		if masked {
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		reply := op
		switch op {
		case 0x1, 0x2, 0x0: // text, binary, continuation: echo
		case 0x9: // ping
			reply = 0xA
		case 0x8: // close
			_ = wsWrite(conn, 0x8, payload)
			return
		default:
			continue
		}
		if wsWrite(conn, reply, payload) != nil {
			return
		}
	}
}

func wsWrite(conn net.Conn, op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, byte(n))
	case n < 1<<16:
		hdr = append(hdr, 126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	_, err := conn.Write(append(hdr, payload...))
	return err
}

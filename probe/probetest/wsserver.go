package probetest

import (
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// WSServer is a TLS server on loopback that answers WebSocket upgrades
// (or refuses them, like a proxy that strips WebSocket).
type WSServer struct {
	Host string
	Port int
	srv  *httptest.Server
}

// WSOptions configure a WSServer.
type WSOptions struct {
	Cert tls.Certificate
	// Refuse answers the upgrade with 403 and a Via header instead of 101.
	Refuse bool
}

// NewWSServer starts the server; it stops at test cleanup.
func NewWSServer(t testing.TB, o WSOptions) *WSServer {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			_, _ = io.WriteString(w, "hello\n")
			return
		}
		if o.Refuse {
			w.Header().Set("Via", "1.1 testproxy")
			http.Error(w, "WebSocket not allowed", http.StatusForbidden)
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
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
		_ = buf.Flush()
	})
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{o.Cert}}
	// Handshakes the client aborts on purpose (untrusted chains) are not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return &WSServer{Host: host, Port: p, srv: srv}
}

// NewConnectProxy starts an HTTP proxy on loopback that only does CONNECT
// (to loopback targets) and counts the tunnels it opened.
func NewConnectProxy(t testing.TB) (url string, tunnels func() int) {
	t.Helper()
	var n int
	count := make(chan struct{}, 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			http.Error(w, "loopback targets only", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err != nil {
			up.Close()
			return
		}
		count <- struct{}{}
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, conn); up.Close() }()
		_, _ = io.Copy(conn, up)
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int {
		for {
			select {
			case <-count:
				n++
			default:
				return n
			}
		}
	}
}

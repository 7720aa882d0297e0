package probe

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func init() {
	RegisterKind(KindInfo{Kind: KindWebSocket, Prober: WebSocket, PerPort: true, NeedsPort: true, Over: TransportTCP})
}

// WebSocketDetails is the evidence of a WebSocket upgrade over TLS.
type WebSocketDetails struct {
	URL string `json:"url"`
	// Proxy is the HTTP proxy the connection went through (credentials
	// stripped), empty when direct.
	Proxy string `json:"proxy,omitempty"`
	// Stage is how far the check got: connect, proxy, tls, upgrade, done.
	Stage       string            `json:"stage"`
	TLS         *TLSDetails       `json:"tls,omitempty"`
	StatusCode  int               `json:"status_code,omitempty"`
	Status      string            `json:"status,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	UpgradeMS   float64           `json:"upgrade_ms,omitempty"`
	AcceptValid bool              `json:"accept_valid,omitempty"`
}

// WebSocket stages.
const (
	WSStageConnect = "connect"
	WSStageProxy   = "proxy"
	WSStageTLS     = "tls"
	WSStageUpgrade = "upgrade"
	WSStageDone    = "done"
)

// ErrUpgradeRefused is the class of a WebSocket upgrade answered with
// anything but 101 Switching Protocols.
var ErrUpgradeRefused = errors.New("websocket upgrade refused")

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opens TLS to the spec's host (through HTTPS_PROXY with CONNECT
// when the environment says so, as UCConnect clients behind corporate
// proxies do) and sends an HTTP/1.1 Upgrade to the spec's path. 101 with a
// valid Sec-WebSocket-Accept passes.
func WebSocket(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	res.Transport = TransportTLS
	path := spec.Path
	if path == "" {
		path = "/"
	}
	hostPort := net.JoinHostPort(spec.Host, strconv.Itoa(spec.Port))
	u := &url.URL{Scheme: "wss", Host: hostPort, Path: path}
	det := &WebSocketDetails{URL: u.String(), Stage: WSStageConnect, TLS: &TLSDetails{ServerName: spec.ServerName()}}
	res.Details.WebSocket = det

	raw, class, err := wsDial(ctx, spec, cfg, hostPort, det)
	if err != nil {
		res.Fail(class, err)
		return res
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()

	det.Stage = WSStageTLS
	conn, err := handshakeTLS(ctx, raw, spec.ServerName(), cfg, det.TLS)
	if err != nil {
		res.Fail(tlsClass(err), err)
		return res
	}
	if !det.TLS.Verified {
		res.Fail(ClassTLS, fmt.Errorf("certificate not trusted: %s (issuer %q)", det.TLS.VerifyReason, det.TLS.Issuer))
		return res
	}
	det.Stage = WSStageUpgrade
	if class, err := wsUpgrade(conn, path, hostPort, det); err != nil {
		res.Fail(class, err)
		return res
	}
	det.Stage = WSStageDone
	return res
}

// wsDial connects to the server, through the HTTPS proxy the environment
// names when there is one (a CONNECT tunnel).
func wsDial(ctx context.Context, spec Spec, cfg *Config, hostPort string, det *WebSocketDetails) (net.Conn, ErrorClass, error) {
	proxyURL, err := wsProxy(cfg, hostPort)
	if err != nil {
		return nil, ClassProtocol, fmt.Errorf("proxy setting: %w", err)
	}
	var d net.Dialer
	var raw net.Conn
	if proxyURL != nil {
		det.Proxy = redactURL(proxyURL)
		raw, err = d.DialContext(ctx, "tcp", proxyHostPort(proxyURL))
		if err == nil {
			det.Stage = WSStageProxy
			err = proxyConnect(ctx, raw, proxyURL, hostPort, det)
		}
	} else {
		raw, err = d.DialContext(ctx, "tcp", net.JoinHostPort(spec.DialHost(), strconv.Itoa(spec.Port)))
	}
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		return nil, Classify(err), err
	}
	return raw, ClassNone, nil
}

// wsUpgrade sends the HTTP Upgrade (RFC 6455) over conn and checks the
// answer: 101, the right Sec-WebSocket-Accept, Upgrade: websocket.
func wsUpgrade(conn net.Conn, path, hostPort string, det *WebSocketDetails) (ErrorClass, error) {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	secKey := base64.StdEncoding.EncodeToString(key)
	req := &http.Request{
		Method: http.MethodGet, URL: &url.URL{Path: path}, Host: hostPort,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"Upgrade"},
			"Sec-WebSocket-Key":     {secKey},
			"Sec-WebSocket-Version": {"13"},
			"User-Agent":            {"ucprobe"},
		},
	}
	start := time.Now()
	if err := req.Write(conn); err != nil {
		return Classify(err), err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	det.UpgradeMS = ms(time.Since(start))
	if err != nil {
		// A proxy that closes the connection on an Upgrade shows here.
		class := Classify(err)
		if class == ClassNone || class == ClassProtocol {
			class = ClassProtocol
		}
		return class, fmt.Errorf("%w: no HTTP answer to the upgrade: %v", ErrUpgradeRefused, err)
	}
	_ = resp.Body.Close()
	det.StatusCode, det.Status = resp.StatusCode, resp.Status
	det.Headers = headerSummary(resp.Header)
	det.AcceptValid = resp.Header.Get("Sec-WebSocket-Accept") == acceptKey(secKey)
	if resp.StatusCode != http.StatusSwitchingProtocols || !det.AcceptValid ||
		!strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return ClassProtocol, fmt.Errorf("%w: %s (%s)", ErrUpgradeRefused, resp.Status, formatHeaders(det.Headers))
	}
	return ClassNone, nil
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func wsProxy(cfg *Config, hostPort string) (*url.URL, error) {
	pf := http.ProxyFromEnvironment
	if cfg != nil && cfg.Proxy != nil {
		pf = cfg.Proxy
	}
	req := &http.Request{URL: &url.URL{Scheme: "https", Host: hostPort}}
	return pf(req)
}

func proxyHostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// proxyConnect asks an HTTP proxy for a tunnel with CONNECT.
func proxyConnect(ctx context.Context, conn net.Conn, proxy *url.URL, hostPort string, det *WebSocketDetails) error {
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: hostPort}, Host: hostPort, Header: http.Header{}}
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		req.SetBasicAuth(u.Username(), pass)
	}
	if err := req.Write(conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		det.StatusCode, det.Status = resp.StatusCode, resp.Status
		if resp.StatusCode == http.StatusProxyAuthRequired {
			return fmt.Errorf("proxy %s wants authentication: %s", det.Proxy, resp.Status)
		}
		return fmt.Errorf("proxy %s refused CONNECT %s: %s", det.Proxy, hostPort, resp.Status)
	}
	return nil
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// headerSummary keeps the headers that tell who answered and why.
func headerSummary(h http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"Server", "Via", "Upgrade", "Connection", "Content-Type", "Location", "X-Cache", "Proxy-Agent"} {
		if v := h.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

func formatHeaders(h map[string]string) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+h[k])
	}
	if len(parts) == 0 {
		return "no telling headers"
	}
	return strings.Join(parts, "; ")
}

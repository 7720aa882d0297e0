package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

func init() {
	RegisterKind(KindInfo{Kind: KindSIP, Prober: SIP, PerAddress: true, PerPort: true, NeedsPort: true, Modes: []string{"options"}})
}

// SIPDetails is the evidence of a SIP OPTIONS check.
type SIPDetails struct {
	Method     string  `json:"method"`
	StatusCode int     `json:"status_code,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	RTTMS      float64 `json:"rtt_ms,omitempty"`
	LocalAddr  string  `json:"local_addr,omitempty"`
	// Received and RPort are what the server wrote into our Via; when they
	// differ from LocalAddr, something (NAT, a SIP ALG) rewrote the packet.
	Received  string `json:"received,omitempty"`
	RPort     int    `json:"rport,omitempty"`
	Rewritten bool   `json:"rewritten,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	// Attempts is how many requests went out (UDP retransmits).
	Attempts int `json:"attempts"`
	// ViaSent is the sent-by of our Via; ViaEchoed is the Via host:port
	// the server echoed. They differ only when something in the path
	// rewrote the SIP message itself: the mark of a SIP ALG.
	ViaSent   string `json:"via_sent,omitempty"`
	ViaEchoed string `json:"via_echoed,omitempty"`
	ALG       bool   `json:"alg,omitempty"`
}

// ErrSIP is the class of SIP protocol failures (garbage, no status line).
var ErrSIP = errors.New("SIP")

// SIP sends an OPTIONS request over UDP (default) or TCP and reads the
// final response. Any response proves a SIP server listens; 2xx passes,
// 4xx warns (a PBX that refuses unauthenticated OPTIONS is still there),
// 5xx/6xx fail with class protocol.
func SIP(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	if res.Transport == "" {
		res.Transport = TransportUDP
	}
	method := "OPTIONS"
	if spec.Mode != "" {
		method = strings.ToUpper(spec.Mode)
	}
	det := &SIPDetails{Method: method}
	res.Details.SIP = det
	var err error
	switch res.Transport {
	case TransportUDP:
		err = sipUDP(ctx, spec, cfg, det)
	case TransportTCP:
		err = sipTCP(ctx, spec, cfg, det)
	default:
		err = fmt.Errorf("%w %q for sip (use udp or tcp)", ErrTransport, res.Transport)
	}
	if err != nil {
		class := stunClass(err)
		if errors.Is(err, ErrSIP) {
			class = ClassProtocol
		}
		res.Fail(class, err)
		return res
	}
	switch {
	case det.StatusCode >= 500:
		res.Fail(ClassProtocol, fmt.Errorf("SIP server answered %d %s", det.StatusCode, det.Reason))
	case det.StatusCode >= 400:
		res.Status = StatusWarn
		res.Class = ClassProtocol
		res.Error = fmt.Sprintf("SIP server answered %d %s (it is reachable, but refuses %s)", det.StatusCode, det.Reason, method)
	}
	return res
}

func sipUDP(ctx context.Context, spec Spec, cfg *Config, det *SIPDetails) error {
	clock := clockOf(cfg)
	raddr, err := resolveUDP(ctx, cfg, spec)
	if err != nil {
		return err
	}
	conn, err := net.DialUDP(udpNet(raddr), nil, net.UDPAddrFromAddrPort(raddr))
	if err != nil {
		return err
	}
	defer conn.Close()
	EnableICMPErrors(conn)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	det.LocalAddr = conn.LocalAddr().String()
	req, branch := sipRequest(det, "UDP", det.LocalAddr, spec)
	limit, ok := ctx.Deadline()
	if !ok {
		limit = time.Now().Add(3 * time.Second)
	}
	buf := make([]byte, 65535)
	first, provisional := time.Now(), false
	for n := 0; ; n++ {
		// Retransmissions and silence follow the run's clock, re-read at
		// each send as round trips are measured (RFC 3261's T1 of 500 ms
		// and Timer B of 32 s are for phones); a provisional answer lifts
		// the silence bound. The answer's round trip is not fed back: it
		// holds the server's own processing (a PBX's lookups), not only
		// the path's.
		end := limit
		if !provisional {
			end = minTime(first.Add(clock.UDPSilence()), limit)
		}
		if ctx.Err() != nil || !time.Now().Before(end) {
			return fmt.Errorf("%w from %s after %d %s", ErrNoAnswer, raddr, det.Attempts, plural(det.Attempts, "request", "requests"))
		}
		if _, err := conn.Write(req); err != nil {
			return icmpOr(conn, raddr, err)
		}
		det.Attempts++
		sent := time.Now()
		_ = conn.SetReadDeadline(minTime(sent.Add(clock.Schedule().next(n)), end))
		for {
			if ctx.Err() != nil {
				_ = conn.SetReadDeadline(time.Now())
			}
			nr, err := conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return icmpOr(conn, raddr, err)
			}
			code, err := sipParse(buf[:nr], branch, det)
			if err != nil {
				return err
			}
			if code < 200 {
				provisional = true
				continue // provisional: wait for the final answer
			}
			det.RTTMS = ms(time.Since(sent))
			return nil
		}
	}
}

func sipTCP(ctx context.Context, spec Spec, cfg *Config, det *SIPDetails) error {
	conn, err := dialTCP(ctx, spec, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	det.LocalAddr = conn.LocalAddr().String()
	req, branch := sipRequest(det, "TCP", det.LocalAddr, spec)
	start := time.Now()
	if _, err := conn.Write(req); err != nil {
		return err
	}
	det.Attempts = 1
	br := bufio.NewReader(conn)
	for i := 0; i < 8; i++ { // provisional answers, bounded
		msg, err := sipReadStream(br)
		if err != nil {
			return err
		}
		code, err := sipParse(msg, branch, det)
		if err != nil {
			return err
		}
		if code >= 200 {
			det.RTTMS = ms(time.Since(start))
			return nil
		}
	}
	return fmt.Errorf("%w: no final response after 8 provisional ones", ErrSIP)
}

// sipReadStream reads one message (headers plus Content-Length body).
func sipReadStream(br *bufio.Reader) ([]byte, error) {
	var msg bytes.Buffer
	clen := 0
	for lines := 0; ; lines++ {
		if lines > 200 {
			return nil, fmt.Errorf("%w: header too long", ErrSIP)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		msg.WriteString(line)
		t := strings.TrimSpace(line)
		if t == "" {
			break
		}
		if k, v, ok := strings.Cut(t, ":"); ok {
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "content-length" || k == "l" {
				clen, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	if clen > 0 && clen < 1<<16 {
		body := make([]byte, clen)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		msg.Write(body)
	}
	return msg.Bytes(), nil
}

// sipRequest builds the request with a Via that asks for rport (RFC 3581).
func sipRequest(det *SIPDetails, tr, local string, spec Spec) ([]byte, string) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	branch := "z9hG4bK-ucprobe-" + hex.EncodeToString(rnd[:])
	tag := hex.EncodeToString(rnd[:4])
	det.ViaSent = local
	host := spec.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	uri := fmt.Sprintf("sip:%s:%d", host, spec.Port)
	if tr == "TCP" {
		uri += ";transport=tcp"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", det.Method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", tr, local, branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:ucprobe@%s>;tag=%s\r\n", hostOnly(local), tag)
	fmt.Fprintf(&b, "To: <%s>\r\n", uri)
	fmt.Fprintf(&b, "Call-ID: %s@ucprobe\r\n", hex.EncodeToString(rnd[:]))
	fmt.Fprintf(&b, "CSeq: 1 %s\r\n", det.Method)
	fmt.Fprintf(&b, "Contact: <sip:ucprobe@%s>\r\n", local)
	b.WriteString("Accept: application/sdp\r\nUser-Agent: ucprobe\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String()), branch
}

func hostOnly(hp string) string {
	if h, _, err := net.SplitHostPort(hp); err == nil {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return hp
}

// sipParse reads a response to our request; it ignores answers to other
// transactions (a stray retransmission) by returning code 0.
func sipParse(b []byte, branch string, det *SIPDetails) (int, error) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	status, err := tp.ReadLine()
	if err != nil || !strings.HasPrefix(status, "SIP/2.0 ") {
		return 0, fmt.Errorf("%w: the answer is not a SIP response (%q)", ErrSIP, clipText(status, 40))
	}
	parts := strings.SplitN(status, " ", 3)
	code, err := strconv.Atoi(parts[1])
	if err != nil || code < 100 || code > 699 {
		return 0, fmt.Errorf("%w: bad status line %q", ErrSIP, clipText(status, 40))
	}
	hdr, _ := tp.ReadMIMEHeader()
	via := hdr.Get("Via")
	if via == "" {
		via = hdr.Get("V")
	}
	if !strings.Contains(via, branch) {
		return 0, nil
	}
	det.StatusCode = code
	if len(parts) == 3 {
		det.Reason = parts[2]
	}
	det.UserAgent = hdr.Get("Server")
	if det.UserAgent == "" {
		det.UserAgent = hdr.Get("User-Agent")
	}
	sipVia(via, det)
	return code, nil
}

// sipVia reads sent-by, received and rport from the top Via and decides
// whether the server saw another address (NAT) or another Via (ALG).
func sipVia(via string, det *SIPDetails) {
	first, _, _ := strings.Cut(via, ",")
	fields := strings.Split(first, ";")
	if sp := strings.Fields(fields[0]); len(sp) == 2 {
		det.ViaEchoed = sp[1]
	}
	for _, p := range fields[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "received":
			det.Received = v
		case "rport":
			det.RPort, _ = strconv.Atoi(v)
		}
	}
	local, err := netip.ParseAddrPort(det.LocalAddr)
	if err != nil {
		return
	}
	if det.Received != "" {
		if a, err := netip.ParseAddr(strings.Trim(det.Received, "[]")); err == nil && a.Unmap() != local.Addr().Unmap() {
			det.Rewritten = true
		}
	}
	if det.RPort != 0 && det.RPort != int(local.Port()) {
		det.Rewritten = true
	}
	if det.ViaEchoed != "" && det.ViaEchoed != det.ViaSent {
		det.ALG = true
	}
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

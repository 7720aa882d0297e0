package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

func init() {
	RegisterKind(KindInfo{Kind: KindSTUN, Prober: STUN, PerAddress: true, PerPort: true, NeedsPort: true, MinNeed: MinUDPSilence})
}

// STUNDetails is the evidence of a STUN Binding check.
type STUNDetails struct {
	Server    string `json:"server"`     // the address asked
	LocalAddr string `json:"local_addr"` // the local address the request left from
	Interface string `json:"interface,omitempty"`
	// MappedAddr is the XOR-MAPPED-ADDRESS: how the server saw us.
	MappedAddr string `json:"mapped_addr,omitempty"`
	// ReplyFrom is the source address the answer came from; Asymmetric is
	// true when it differs from Server (evidence for multi-homed-server).
	ReplyFrom      string  `json:"reply_from,omitempty"`
	Asymmetric     bool    `json:"asymmetric,omitempty"`
	ResponseOrigin string  `json:"response_origin,omitempty"`
	OtherAddress   string  `json:"other_address,omitempty"`
	Software       string  `json:"software,omitempty"`
	RTTMS          float64 `json:"rtt_ms,omitempty"`
	Attempts       int     `json:"attempts"`
	// Connected says the request went out on a connected UDP socket (ICMP
	// errors become errno, but an answer from another address is dropped
	// by the kernel and looks like silence).
	Connected bool `json:"connected,omitempty"`
	// ICMP is the ICMP error the OS reported for the request, if any.
	ICMP string `json:"icmp,omitempty"`
	// ErrorCode and ErrorReason are a STUN error response's.
	ErrorCode   int    `json:"error_code,omitempty"`
	ErrorReason string `json:"error_reason,omitempty"`
	// NAT is the mapping/filtering behaviour measured from this check's
	// socket (the environment's "nat" is taken from the first one).
	NAT *NATInfo `json:"nat,omitempty"`
}

// Sentinel errors of the STUN and TURN checks.
var (
	ErrNoAnswer     = errors.New("no answer")
	ErrNotSTUN      = errors.New("the answer is not a STUN message")
	ErrSTUNError    = errors.New("STUN error response")
	ErrNoMapped     = errors.New("the answer has no XOR-MAPPED-ADDRESS")
	ErrTransport    = errors.New("unsupported transport")
	ErrNoCredential = errors.New("no TURN credentials (give --turn-user/--turn-pass or --turn-secret)")
)

// STUN sends a Binding request over the spec's transport (udp when not
// set) and records how the server saw us. Over UDP it also measures the
// NAT's mapping and filtering behaviour from a second socket.
func STUN(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	if res.Transport == "" {
		res.Transport = TransportUDP
	}
	dst := net.JoinHostPort(spec.DialHost(), strconv.Itoa(spec.Port))
	det := &STUNDetails{Server: dst}
	res.Details.STUN = det
	var err error
	switch res.Transport {
	case TransportUDP:
		err = stunUDP(ctx, spec, cfg, det, stunUDPOptions{clock: clockOf(cfg)})
		if err == nil {
			det.NAT = MeasureNAT(ctx, spec, cfg, det)
		}
	case TransportTCP, TransportTLS:
		err = stunStream(ctx, spec, cfg, res.Transport, det)
	default:
		err = fmt.Errorf("%w %q for stun (use udp, tcp or tls)", ErrTransport, res.Transport)
	}
	if err != nil {
		res.Fail(stunClass(err), err)
	}
	return res
}

// stunClass maps a STUN/TURN check error to its class.
func stunClass(err error) ErrorClass {
	var ie *icmpErr
	var te *stun.TurnError
	switch {
	case errors.As(err, &ie):
		return ie.e.Class
	case errors.As(err, &te) && (te.ErrorCodeAttr.Code == stun.CodeUnauthorized || te.ErrorCodeAttr.Code == stun.CodeWrongCredentials):
		return ClassAuth
	case errors.Is(err, ErrNoCredential):
		return ClassAuth
	case errors.As(err, &te), errors.Is(err, ErrNotSTUN), errors.Is(err, ErrSTUNError), errors.Is(err, ErrNoMapped), errors.Is(err, ErrTransport):
		return ClassProtocol
	case errors.Is(err, ErrNoAnswer):
		return ClassTimeout
	}
	return Classify(err)
}

// icmpErr wraps an ICMP error from the OS's error queue.
type icmpErr struct{ e ICMPError }

func (i *icmpErr) Error() string {
	what := map[ErrorClass]string{ClassRefused: "port unreachable", ClassProhibited: "administratively prohibited", ClassUnreachable: "host or network unreachable"}[i.e.Class]
	return fmt.Sprintf("ICMP %s from %s (type %d code %d)", what, i.e.From, i.e.Type, i.e.Code)
}

type stunUDPOptions struct {
	// unconnected forces an unconnected socket (tests: the asymmetric
	// reply path on systems without an ICMP error queue).
	unconnected bool
	// clock bounds the silence and paces the retransmissions.
	clock *Clock
}

// stunUDP runs one Binding transaction over UDP. Where the OS queues ICMP
// errors on an unconnected socket (Linux IP_RECVERR), it uses one, so an
// answer from another address is seen; elsewhere it connects the socket,
// so "port unreachable" shows as ECONNREFUSED instead of silence.
func stunUDP(ctx context.Context, spec Spec, cfg *Config, det *STUNDetails, opt stunUDPOptions) error {
	raddr, err := resolveUDP(ctx, cfg, spec)
	if err != nil {
		return err
	}
	local, err := localIPFor(raddr)
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP(udpNet(raddr), &net.UDPAddr{IP: local.AsSlice()})
	if err != nil {
		return err
	}
	connected := false
	if !EnableICMPErrors(conn) && !opt.unconnected {
		_ = conn.Close()
		if conn, err = net.DialUDP(udpNet(raddr), &net.UDPAddr{IP: local.AsSlice()}, net.UDPAddrFromAddrPort(raddr)); err != nil {
			return err
		}
		connected = true
	}
	defer conn.Close()
	det.Connected = connected
	det.LocalAddr = conn.LocalAddr().String()
	det.Interface = interfaceOf(local)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	ex := udpExchange{conn: conn, connected: connected, to: raddr, clock: opt.clock, silence: true}
	resp, from, rtt, attempts, err := ex.do(ctx, req, opt.clock.Schedule()) // silence: the clock's schedule, re-read each round
	det.Attempts = attempts
	if err != nil {
		return err
	}
	det.RTTMS = ms(rtt)
	det.ReplyFrom = from.String()
	det.Asymmetric = from.Addr().Unmap() != raddr.Addr().Unmap() || from.Port() != raddr.Port()
	return readBindingResponse(resp, det)
}

// readBindingResponse fills det from a Binding response.
func readBindingResponse(resp *stun.Message, det *STUNDetails) error {
	var sw stun.Software
	if sw.GetFrom(resp) == nil {
		det.Software = sw.String()
	}
	var other stun.OtherAddress
	if other.GetFrom(resp) == nil {
		det.OtherAddress = other.String()
	}
	var origin stun.ResponseOrigin
	if origin.GetFrom(resp) == nil {
		det.ResponseOrigin = origin.String()
	}
	if resp.Type.Class == stun.ClassErrorResponse {
		var code stun.ErrorCodeAttribute
		if code.GetFrom(resp) == nil {
			det.ErrorCode, det.ErrorReason = int(code.Code), string(code.Reason)
		}
		return fmt.Errorf("%w %d %s", ErrSTUNError, det.ErrorCode, det.ErrorReason)
	}
	var mapped stun.XORMappedAddress
	if err := mapped.GetFrom(resp); err != nil {
		return ErrNoMapped
	}
	det.MappedAddr = mapped.String()
	return nil
}

// stunStream sends one Binding request over TCP or TLS (RFC 5389 section
// 7.2.2: no retransmission; the stream is reliable).
func stunStream(ctx context.Context, spec Spec, cfg *Config, tr Transport, det *STUNDetails) error {
	conn, err := dialStream(ctx, spec, cfg, tr)
	if err != nil {
		return err
	}
	defer conn.Close()
	det.LocalAddr = conn.LocalAddr().String()
	if ap, err := netip.ParseAddrPort(det.LocalAddr); err == nil {
		det.Interface = interfaceOf(ap.Addr())
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	sc := turn.NewSTUNConn(conn)
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	start := time.Now()
	if _, err := sc.WriteTo(req.Raw, nil); err != nil {
		return err
	}
	det.Attempts = 1
	buf := make([]byte, 1500)
	n, _, err := sc.ReadFrom(buf)
	if err != nil {
		return err
	}
	det.RTTMS = ms(time.Since(start))
	det.ReplyFrom = conn.RemoteAddr().String()
	m := &stun.Message{Raw: buf[:n]}
	if m.Decode() != nil {
		return fmt.Errorf("%w (%d bytes)", ErrNotSTUN, n)
	}
	return readBindingResponse(m, det)
}

package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v4"
)

// NAT tests (RFC 5780 section 4) cost round trips that a silent answer
// turns into waits, so each exchange is capped. Mapping answers are
// expected; filtering tests expect silence when the NAT filters.
const (
	natMappingWait   = 500 * time.Millisecond
	natFilteringWait = 300 * time.Millisecond
	natBudget        = 1500 * time.Millisecond
)

// NATRetransmit is the schedule of the NAT tests' requests.
var NATRetransmit = Retransmit{RTO: 100 * time.Millisecond, MaxRTO: 200 * time.Millisecond}

// changeRequest is the CHANGE-REQUEST attribute (RFC 5780 section 7.2),
// which stun/v4 has no typed setter for: 4 bytes, flags 0x4 (change IP)
// and 0x2 (change port).
type changeRequest struct{ ip, port bool }

func (c changeRequest) AddTo(m *stun.Message) error {
	var v [4]byte
	var f uint32
	if c.ip {
		f |= 0x4
	}
	if c.port {
		f |= 0x2
	}
	binary.BigEndian.PutUint32(v[:], f)
	m.Add(stun.AttrChangeRequest, v[:])
	return nil
}

// MeasureNAT measures mapping and filtering behaviour from one fresh
// unconnected socket: the profile's STUN server (det.Server), its
// OTHER-ADDRESS when it offers RFC 5780, and the --stun extras. It never
// fails the check: what it cannot tell it reports as unknown.
func MeasureNAT(ctx context.Context, spec Spec, cfg *Config, det *STUNDetails) *NATInfo {
	primary, err := netip.ParseAddrPort(det.Server)
	if err != nil {
		return nil
	}
	primary = netip.AddrPortFrom(primary.Addr().Unmap(), primary.Port())
	local, err := localIPFor(primary)
	if err != nil {
		return nil
	}
	conn, err := net.ListenUDP(udpNet(primary), &net.UDPAddr{IP: local.AsSlice()})
	if err != nil {
		return nil
	}
	defer conn.Close()
	bctx, cancel := context.WithTimeout(ctx, natBudget)
	defer cancel()
	stop := context.AfterFunc(bctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	var extras []netip.AddrPort
	for _, e := range cfg.ExtraSTUN {
		if ap, ok := resolveExtra(bctx, e, cfg); ok && ap.Addr().Is4() == primary.Addr().Is4() {
			extras = append(extras, ap)
		}
	}
	other, _ := netip.ParseAddrPort(det.OtherAddress)
	info := DetectNAT(bctx, conn, primary, other, extras)
	info.Checks = []string{spec.ID}
	return info
}

// ErrBadSTUNServer is the class of malformed --stun values.
var ErrBadSTUNServer = errors.New("bad STUN server")

// ValidSTUNServer checks a --stun value: HOST or HOST:PORT (port 1-65535,
// 3478 when left out; IPv6 literals in brackets when a port is given).
func ValidSTUNServer(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, "3478"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%w %q: port %q is not 1-65535", ErrBadSTUNServer, s, port)
	}
	if host == "" || strings.ContainsAny(host, " /:") && !isIP(host) {
		return fmt.Errorf("%w %q: give HOST or HOST:PORT, e.g. stun.example.com:3478", ErrBadSTUNServer, s)
	}
	return nil
}

// resolveExtra turns a --stun HOST[:PORT] into an address (port 3478 by default).
func resolveExtra(ctx context.Context, s string, cfg *Config) (netip.AddrPort, bool) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, "3478"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return netip.AddrPort{}, false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(p)), true
	}
	addrs, err := ResolverOf(cfg).LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addrs[0].Unmap(), uint16(p)), true
}

// DetectNAT runs the mapping tests (RFC 5780 4.3, or a comparison across
// servers without it) and, when the server offers OTHER-ADDRESS, the
// filtering tests (4.4) from conn; ClassifyMapping judges the mappings.
// conn must be unconnected; it may come from a vnet (tests).
func DetectNAT(ctx context.Context, conn net.PacketConn, primary, other netip.AddrPort, extras []netip.AddrPort) *NATInfo {
	d := &natTest{ctx: ctx, conn: conn, primary: primary, other: other,
		info: &NATInfo{Mapping: NATUnknown, Mapped: map[string]string{}, Method: NATMethodServers}}
	info := d.info
	m1, ok := d.bind(primary, NATViaSTUN)
	if !ok {
		info.Undetermined = "the STUN server did not answer the mapping test"
		return info
	}
	info.PublicAddr = m1.String()
	info.RFC5780 = d.other.IsValid() && d.other.Addr() != primary.Addr() && d.other.Port() != primary.Port()
	switch {
	case info.RFC5780:
		info.Method = NATMethodRFC5780
		d.rfc5780(m1)
	default:
		for _, e := range extras {
			d.bind(e, NATViaSTUN)
		}
	}
	info.Mapping, info.Undetermined = ClassifyMapping(addrPortOf(conn.LocalAddr()), info.Observations)
	if len(info.Observations) == 1 && (info.RFC5780 || len(extras) > 0) && info.Mapping == NATUnknown {
		info.Undetermined = "the other STUN addresses did not answer the mapping test"
	}
	return info
}

// natTest is one mapping and filtering test from one socket.
type natTest struct {
	ctx            context.Context
	conn           net.PacketConn
	primary, other netip.AddrPort
	info           *NATInfo
}

// bind asks to for our mapping and records it; the primary server's first
// answer may name its OTHER-ADDRESS (RFC 5780).
func (d *natTest) bind(to netip.AddrPort, via NATVia) (netip.AddrPort, bool) {
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	resp, _, _, _, err := udpExchange{conn: d.conn, to: to, wait: natMappingWait}.do(d.ctx, req, NATRetransmit)
	if err != nil {
		return netip.AddrPort{}, false
	}
	var m stun.XORMappedAddress
	if m.GetFrom(resp) != nil {
		return netip.AddrPort{}, false
	}
	ap, ok := netip.AddrFromSlice(m.IP)
	if !ok {
		return netip.AddrPort{}, false
	}
	got := netip.AddrPortFrom(ap.Unmap(), uint16(m.Port))
	d.info.observe(to, got, via)
	if to == d.primary && d.other == (netip.AddrPort{}) {
		var oa stun.OtherAddress
		if oa.GetFrom(resp) == nil {
			if a, ok := netip.AddrFromSlice(oa.IP); ok {
				d.other = netip.AddrPortFrom(a.Unmap(), uint16(oa.Port))
			}
		}
	}
	return got, true
}

// rfc5780 runs tests II and III (the alternate address with the primary
// port, then the alternate address and port: test III is needed only
// when II saw another mapping) and the filtering tests.
func (d *natTest) rfc5780(m1 netip.AddrPort) {
	info := d.info
	if m2, ok := d.bind(netip.AddrPortFrom(d.other.Addr(), d.primary.Port()), NATViaOther); ok && m2 != m1 {
		d.bind(d.other, NATViaOther)
	}
	// Filtering: ask for an answer from the other address and port, then
	// from the other port only.
	switch {
	case answers(d.ctx, d.conn, d.primary, changeRequest{ip: true, port: true}):
		info.Filtering = NATEndpointIndependent
	case answers(d.ctx, d.conn, d.primary, changeRequest{port: true}):
		info.Filtering = NATAddressDependent
	case d.ctx.Err() == nil:
		info.Filtering = NATAddressAndPortDependent
	}
}

// answers reports whether a Binding with CHANGE-REQUEST gets any answer.
func answers(ctx context.Context, conn net.PacketConn, to netip.AddrPort, cr changeRequest) bool {
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, cr, stun.Fingerprint)
	_, _, _, _, err := udpExchange{conn: conn, to: to, wait: natFilteringWait}.do(ctx, req, NATRetransmit)
	return err == nil
}

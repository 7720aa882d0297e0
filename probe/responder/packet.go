package responder

import (
	"net/netip"
	"sync/atomic"

	"github.com/pion/stun/v4"
)

// Stats counts what the UDP sockets saw since Start. Every packet is in
// Packets and in at most one of the other counters, except that a
// rate-limited or too-large probe is still filed in its receipt.
type Stats struct {
	Packets         uint64 `json:"packets"`
	Answered        uint64 `json:"answered"`
	RateLimited     uint64 `json:"rate_limited"`
	TooLarge        uint64 `json:"too_large"`       // the answer would have been larger than the request
	Malformed       uint64 `json:"malformed"`       // not STUN, broken STUN, bad FINGERPRINT or session id
	NotBinding      uint64 `json:"not_binding"`     // STUN, but not a Binding request
	Unauthenticated uint64 `json:"unauthenticated"` // token set, MESSAGE-INTEGRITY missing or wrong
	SendErrors      uint64 `json:"send_errors"`
}

type counters struct {
	packets, answered, rateLimited, tooLarge    atomic.Uint64
	malformed, notBinding, unauthenticated, err atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{Packets: c.packets.Load(), Answered: c.answered.Load(), RateLimited: c.rateLimited.Load(),
		TooLarge: c.tooLarge.Load(), Malformed: c.malformed.Load(), NotBinding: c.notBinding.Load(),
		Unauthenticated: c.unauthenticated.Load(), SendErrors: c.err.Load()}
}

// scratch is one socket's reusable messages, so answering a packet does
// not allocate a message each time.
type scratch struct {
	req, resp stun.Message
}

// messageIntegritySize is the HMAC-SHA1 length of MESSAGE-INTEGRITY.
const messageIntegritySize = 20

// handlePacket decides what to do with one datagram that arrived on port
// from from, files it, and returns the answer to send (nil: stay silent).
// The answer aliases sc and is valid until sc's next use. It never
// returns more bytes than in has: the responder is no amplifier.
func (s *Server) handlePacket(sc *scratch, port uint16, in []byte, from netip.AddrPort) []byte {
	s.count.packets.Add(1)
	if !stun.IsMessage(in) {
		s.count.malformed.Add(1)
		return nil
	}
	req := &sc.req
	req.Reset()
	req.Raw = append(req.Raw[:0], in...)
	if err := req.Decode(); err != nil {
		s.count.malformed.Add(1)
		return nil
	}
	if req.Type != stun.BindingRequest {
		s.count.notBinding.Add(1)
		return nil
	}
	if req.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(req) != nil {
		s.count.malformed.Add(1)
		return nil
	}
	if s.key != nil && !s.authentic(req) {
		// Silent, and not filed: a stranger must not create sessions.
		s.count.unauthenticated.Add(1)
		return nil
	}
	session := ""
	if v, err := req.Get(AttrSession); err == nil {
		if ValidSession(string(v)) != nil {
			s.count.malformed.Add(1)
			return nil
		}
		session = string(v)
	}
	ip := from.Addr().Unmap() // a v4 client on a dual-stack socket is still v4
	if !s.lim.allow(ip) {
		s.count.rateLimited.Add(1)
		s.ledger.record(session, ip, port, rateLimited)
		return nil
	}
	out, err := s.answer(sc, req, netip.AddrPortFrom(ip, from.Port()), session)
	if err != nil || len(out) > len(in) {
		s.count.tooLarge.Add(1)
		s.ledger.record(session, ip, port, tooLarge)
		return nil
	}
	s.count.answered.Add(1)
	s.ledger.record(session, ip, port, answered)
	return out
}

// authentic checks MESSAGE-INTEGRITY against Key(token).
func (s *Server) authentic(req *stun.Message) bool {
	v, err := req.Get(stun.AttrMessageIntegrity)
	if err != nil || len(v) != messageIntegritySize {
		return false
	}
	return s.key.Check(req) == nil
}

// answer encodes the Binding success response: XOR-MAPPED-ADDRESS, the
// echoed session, MESSAGE-INTEGRITY when a token is set, FINGERPRINT.
func (s *Server) answer(sc *scratch, req *stun.Message, from netip.AddrPort, session string) ([]byte, error) {
	resp := &sc.resp
	resp.Reset()
	resp.TransactionID = req.TransactionID
	resp.Type = stun.BindingSuccess
	resp.WriteHeader()
	xor := stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())}
	if err := xor.AddTo(resp); err != nil {
		return nil, err
	}
	if session != "" {
		resp.Add(AttrSession, []byte(session))
	}
	if s.key != nil {
		if err := s.key.AddTo(resp); err != nil {
			return nil, err
		}
	}
	if err := stun.Fingerprint.AddTo(resp); err != nil {
		return nil, err
	}
	return resp.Raw, nil
}

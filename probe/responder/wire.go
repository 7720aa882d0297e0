// Package responder is the far end of ucprobe's UDP checks: `ucprobe serve`
// answers STUN Binding requests on every port of its UDP ranges, accepts
// TCP on its TCP ports, and remembers, per session, which probes arrived
// (receipts), so the client can tell "never arrived" from "answer lost".
//
// This file is the wire contract between the responder and the sweep
// client (probe.UDPRange). Any RFC 5389 STUN server can stand in for the
// responder: the extras here are comprehension-optional, so a plain server
// answers and ignores them.
package responder

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/pion/stun/v4"
)

// AttrSession carries the client's session id (comprehension-optional, so
// plain STUN servers ignore it). The responder files each request it gets
// under this id and echoes it in the answer.
const AttrSession stun.AttrType = 0xC0F1

// AttrPad pads a request so that the answer fits in it. It is
// comprehension-optional on purpose: RFC 5780's PADDING makes coturn pad
// its answer to the MTU (an amplifier, and answers the sweep then cannot
// read), while a plain server ignores AttrPad and answers as usual.
const AttrPad stun.AttrType = 0xC0F2

// MaxSessionLen bounds a session id; ids are printable ASCII.
const MaxSessionLen = 64

// PadTo is the size the client pads each Binding request to (AttrPad). An
// answer (XOR-MAPPED-ADDRESS for IPv6, the session, MESSAGE-INTEGRITY,
// FINGERPRINT) fits in it, so the responder never sends more bytes than it
// received: it cannot be used as an amplifier.
const PadTo = 160

// ErrBadSession: a session id that is empty, too long or not printable.
var ErrBadSession = errors.New("bad session id")

// Key derives the MESSAGE-INTEGRITY key (RFC 5389 short-term style) from
// the responder's token, so the token itself never travels.
func Key(token string) stun.MessageIntegrity {
	if token == "" {
		return nil
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("ucprobe responder stun v1"))
	return stun.MessageIntegrity(m.Sum(nil))
}

// ValidSession reports whether id is a usable session id.
func ValidSession(id string) error {
	if id == "" || len(id) > MaxSessionLen {
		return fmt.Errorf("%w: length %d (1..%d)", ErrBadSession, len(id), MaxSessionLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e || id[i] == '/' {
			return fmt.Errorf("%w: byte %d is not printable ASCII", ErrBadSession, i)
		}
	}
	return nil
}

// NewRequest builds a padded Binding request for session. With a key it
// carries MESSAGE-INTEGRITY; FINGERPRINT always comes last.
func NewRequest(session string, key stun.MessageIntegrity) (*stun.Message, error) {
	if err := ValidSession(session); err != nil {
		return nil, err
	}
	m := stun.New()
	m.SetType(stun.BindingRequest)
	if err := m.NewTransactionID(); err != nil {
		return nil, err
	}
	// The magic cookie: without it no STUN server (pion, coturn, this
	// responder) takes the message for STUN.
	m.WriteHeader()
	m.Add(AttrSession, []byte(session))
	// Header 20 + session + AttrPad header 4 + pad + MI 24 + FINGERPRINT 8.
	used := int(m.Length) + 20 + 4 + 8
	if key != nil {
		used += 24
	}
	if pad := PadTo - used; pad > 0 {
		m.Add(AttrPad, make([]byte, pad&^3))
	}
	if key != nil {
		if err := key.AddTo(m); err != nil {
			return nil, err
		}
	}
	if err := stun.Fingerprint.AddTo(m); err != nil {
		return nil, err
	}
	return m, nil
}

// SessionOf returns the session id a message carries ("" when none).
func SessionOf(m *stun.Message) string {
	v, err := m.Get(AttrSession)
	if err != nil || ValidSession(string(v)) != nil {
		return ""
	}
	return string(v)
}

// Receipt is what the responder tells a client about one session: where
// its probes arrived. GET /v1/receipts/{session} returns it as JSON.
type Receipt struct {
	Session string `json:"session"`
	// Clients are the source addresses the session's probes came from
	// (several behind a NAT pool).
	Clients []string `json:"clients"`
	// Ports where at least one probe arrived, as spans in port order.
	Ports    []Span `json:"ports"`
	Received int    `json:"received"` // probes that arrived
	Answered int    `json:"answered"` // probes answered
	// RateLimited counts probes that arrived but were not answered
	// because a rate limit was hit: an answer the client missed for that
	// reason is not a blocked return path.
	RateLimited int `json:"rate_limited"`
}

// Span is an inclusive port range.
type Span struct {
	Lo int `json:"lo"`
	Hi int `json:"hi"`
}

// Info is what GET /v1/info tells: the responder's ports, so a client
// can say "the responder does not listen on 31000-31010" instead of
// reporting them blocked.
type Info struct {
	Software string `json:"software"`
	UDP      []Span `json:"udp"`
	// UDPFailed are ports of --udp the responder could not bind.
	UDPFailed []Span `json:"udp_failed,omitempty"`
	TCP       []int  `json:"tcp"`
	TCPFailed []int  `json:"tcp_failed,omitempty"`
	Token     bool   `json:"token"`
	ICE       bool   `json:"ice"`
	// SessionsEvicted counts receipts dropped to make room since start;
	// SessionsReplaced those of them a source's own newer session
	// replaced (a source holds at most its share of the slots).
	SessionsEvicted  uint64 `json:"sessions_evicted"`
	SessionsReplaced uint64 `json:"sessions_replaced"`
}

// ReceiptGone is the answer (HTTP 410) for a session whose receipt was
// dropped to make room: its probes may well have arrived.
type ReceiptGone struct {
	Error   string `json:"error"`
	Evicted bool   `json:"evicted"`
}

// HTTP paths of the responder's endpoint.
const (
	PathInfo     = "/v1/info"
	PathReceipts = "/v1/receipts/" // + session
	PathICE      = "/v1/ice"       // the ICE signalling (package ice)
)

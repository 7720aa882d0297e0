// Package probe gathers evidence: every check kind sends real packets and
// returns a Result made of plain facts (durations, addresses, error classes).
// A probe never decides a cause; that is the diagnosis' job (package report).
package probe

import "strings"

// Kind names a check kind as profiles spell it.
type Kind string

// The check kinds. A profile may declare any of them; the runner reports a
// kind without a registered prober as skipped ("not implemented").
const (
	KindDNS       Kind = "dns"
	KindTCP       Kind = "tcp"
	KindTLS       Kind = "tls"
	KindWebSocket Kind = "websocket"
	KindSTUN      Kind = "stun"
	KindTURN      Kind = "turn"
	KindUDPRange  Kind = "udp-range"
	KindSIP       Kind = "sip"
	KindICE       Kind = "ice"
)

// Transport is the transport a check runs over.
type Transport string

// Transports.
const (
	TransportUDP  Transport = "udp"
	TransportTCP  Transport = "tcp"
	TransportTLS  Transport = "tls"
	TransportDTLS Transport = "dtls"
)

// Status is a check's outcome.
type Status string

// Statuses, per the report contract.
const (
	StatusPass Status = "pass"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
)

// ErrorClass says how a check failed, derived from the socket or protocol
// error, never from free text. The values are part of the JSON contract.
type ErrorClass string

// Error classes (../shared/DESIGN.md).
const (
	ClassNone        ErrorClass = ""
	ClassTimeout     ErrorClass = "timeout"     // silence: filtered
	ClassRefused     ErrorClass = "refused"     // TCP RST or ICMP port unreachable: host reached, nothing listening
	ClassUnreachable ErrorClass = "unreachable" // ICMP net/host unreachable, no route
	ClassProhibited  ErrorClass = "prohibited"  // ICMP administratively prohibited, or a local firewall (EPERM)
	ClassDNS         ErrorClass = "dns"
	ClassTLS         ErrorClass = "tls"
	ClassAuth        ErrorClass = "auth"
	ClassProtocol    ErrorClass = "protocol"
	ClassCanceled    ErrorClass = "canceled"
)

// Result is the evidence of one check against one address. Its JSON form is
// an element of the report's "checks" array (schema ucprobe/report/v1).
type Result struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Title  string `json:"title,omitempty"`
	Target string `json:"target"` // as the profile named it: host, host:port or host:range
	// Host is the name or address the target was expanded to; Address is
	// the IP actually probed when the check ran against one address.
	Host      string     `json:"host,omitempty"`
	Address   string     `json:"address,omitempty"`
	Port      int        `json:"port,omitempty"`
	Transport Transport  `json:"transport,omitempty"`
	Status    Status     `json:"status"`
	Class     ErrorClass `json:"error_class"`
	Error     string     `json:"error"`
	// Optional checks fail as warnings, not as critical findings.
	Optional   bool    `json:"optional,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Details    Details `json:"details"`
}

// Failed reports whether the check ran and did not get through.
func (r *Result) Failed() bool { return r.Status == StatusFail }

// Details carries the typed evidence of one kind; exactly one field is set
// for a check that ran. Each type lives in its kind's file.
type Details struct {
	DNS       *DNSDetails       `json:"dns,omitempty"`
	TCP       *TCPDetails       `json:"tcp,omitempty"`
	TLS       *TLSDetails       `json:"tls,omitempty"`
	WebSocket *WebSocketDetails `json:"websocket,omitempty"`
	STUN      *STUNDetails      `json:"stun,omitempty"`
	TURN      *TURNDetails      `json:"turn,omitempty"`
	UDPRange  *UDPRangeDetails  `json:"udp_range,omitempty"`
	SIP       *SIPDetails       `json:"sip,omitempty"`
	ICE       *ICEDetails       `json:"ice,omitempty"`
	// Skipped says why a check did not run (needs a responder, not
	// implemented, a variable not set, canceled by the deadline).
	Skipped string `json:"skipped,omitempty"`
	// SkipReason says why, typed: rules read this, never the words.
	SkipReason SkipReason `json:"skip_reason,omitempty"`
}

// SkipReason is why a check did not run.
type SkipReason string

// Skip reasons.
const (
	SkipVariableUnset  SkipReason = "variable-unset"  // the profile variable it needs was not given
	SkipNoResponder    SkipReason = "no-responder"    // only a ucprobe responder at the far end can answer it
	SkipNotImplemented SkipReason = "not-implemented" // no prober for its kind in this binary
	SkipUnresolved     SkipReason = "unresolved"      // its host name did not resolve (see the dns check)
	SkipCanceled       SkipReason = "canceled"        // the run's end (deadline or Ctrl-C) cut it off
	SkipNoCredentials  SkipReason = "no-credentials"  // it needs TURN credentials the run was not given
)

// BaseID is the check's id as the profile declared it: a check run once
// per resolved address has the id ID@ADDRESS (the runner builds it; this
// is its inverse).
func (r Result) BaseID() string { return strings.TrimSuffix(r.ID, "@"+r.Address) }

package probe

// TURNDetails is the evidence of a TURN allocation and its relayed data path.
type TURNDetails struct {
	Server      string `json:"server"`
	Credentials string `json:"credentials"` // "long-term", "rest" or "none"; never the secret
	RelayedAddr string `json:"relayed_addr,omitempty"`
	MappedAddr  string `json:"mapped_addr,omitempty"`
	LifetimeS   int    `json:"lifetime_s,omitempty"`
	Software    string `json:"software,omitempty"`
	// Steps are per-step timings in ms: connect, challenge (first 401
	// round trip), allocate, permission, first_relay.
	Steps map[string]float64 `json:"steps_ms,omitempty"`
	// RelaySent and RelayReceived count datagrams sent through the relay to
	// a local peer and back.
	RelaySent     int    `json:"relay_sent"`
	RelayReceived int    `json:"relay_received"`
	ErrorCode     int    `json:"error_code,omitempty"`
	ErrorReason   string `json:"error_reason,omitempty"`
}

package probe

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
}

package probe

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
	// NAT is the mapping/filtering behaviour measured from this check's
	// socket (the environment's "nat" is taken from the first one).
	NAT *NATInfo `json:"nat,omitempty"`
}

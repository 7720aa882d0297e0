package probe

// Port states of a UDP sweep.
const (
	PortOpen       = "open"       // answered
	PortClosed     = "closed"     // ICMP port unreachable: the packet reached the host
	PortProhibited = "prohibited" // ICMP administratively prohibited
	PortFiltered   = "filtered"   // silence
)

// UDPRangeDetails is the evidence of a UDP port-range sweep.
type UDPRangeDetails struct {
	Ranges     string `json:"ranges"`
	Ports      int    `json:"ports"` // ports swept
	Sampled    bool   `json:"sampled,omitempty"`
	Open       int    `json:"open"`
	Closed     int    `json:"closed"`
	Prohibited int    `json:"prohibited"`
	Filtered   int    `json:"filtered"`
	// SubRanges compress per-port states into runs, in port order.
	SubRanges []UDPSubRange `json:"sub_ranges"`
	// Responder says what answered at the far end: "ucprobe", "stun" or "none".
	Responder string `json:"responder"`
	// Receipts is true when the responder's receipts were fetched, so the
	// direction of a block is known rather than guessed.
	Receipts   bool   `json:"receipts"`
	LocalRange string `json:"local_range,omitempty"`
}

// UDPSubRange is a run of ports with one state. Direction, known from the
// responder's receipts, is "inbound" (never arrived) or "return" (arrived,
// answer lost).
type UDPSubRange struct {
	Range     PortRange `json:"range"`
	State     string    `json:"state"`
	Direction string    `json:"direction,omitempty"`
}

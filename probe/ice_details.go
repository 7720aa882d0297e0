package probe

// ICEDetails is the evidence of a full ICE check (package ice fills it).
type ICEDetails struct {
	Mode  string `json:"mode"`  // "one-ended", "relay-relay", "two-ended"
	State string `json:"state"` // final ICE state: connected, failed, ...
	// LocalCandidates and RemoteCandidates are every gathered candidate.
	LocalCandidates  []ICECandidate `json:"local_candidates"`
	RemoteCandidates []ICECandidate `json:"remote_candidates"`
	Pairs            []ICEPair      `json:"pairs"`
	Selected         *ICEPair       `json:"selected,omitempty"`
	GatheringMS      float64        `json:"gathering_ms"`
	ConnectedMS      float64        `json:"connected_ms,omitempty"`
	Media            *MediaStats    `json:"media,omitempty"`
}

// ICECandidate is one gathered candidate.
type ICECandidate struct {
	ID            string `json:"id"`
	Type          string `json:"type"`     // host, srflx, prflx, relay
	Protocol      string `json:"protocol"` // udp, tcp
	Address       string `json:"address"`
	Port          int    `json:"port"`
	RelayProtocol string `json:"relay_protocol,omitempty"` // udp, tcp, tls for relay candidates
}

// ICEPair is one row of the candidate-pair table.
type ICEPair struct {
	Local             ICECandidate `json:"local"`
	Remote            ICECandidate `json:"remote"`
	State             string       `json:"state"`
	RTTMS             float64      `json:"rtt_ms,omitempty"`
	RequestsSent      uint64       `json:"requests_sent"`
	ResponsesReceived uint64       `json:"responses_received"`
	Nominated         bool         `json:"nominated"`
	Selected          bool         `json:"selected"`
}

// MediaStats are the media-like measurements on the selected pair.
type MediaStats struct {
	Codec     string  `json:"codec"`
	DurationS float64 `json:"duration_s"`
	Sent      int     `json:"sent"`
	Received  int     `json:"received"`
	LossPct   float64 `json:"loss_pct"`
	JitterMS  float64 `json:"jitter_ms"`
	RTTMeanMS float64 `json:"rtt_mean_ms"`
	RTTP95MS  float64 `json:"rtt_p95_ms"`
	Reordered int     `json:"reordered"`
	MOS       float64 `json:"mos"`
	Grade     string  `json:"grade"` // excellent, good, fair, degraded
}

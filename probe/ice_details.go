package probe

// The ice kind is probed by package ice (the caller adds its prober); its
// facts live here so that profiles can check modes without importing it.
func init() {
	modes := make([]string, len(ICEModes))
	for i, m := range ICEModes {
		modes[i] = string(m)
	}
	RegisterKind(KindInfo{Kind: KindICE, Modes: modes, NoReach: true, MinNeed: MinTCPSilence + MinUDPSilence})
}

// ICEDetails is the evidence of a full ICE check (package ice fills it).
type ICEDetails struct {
	Mode  ICEMode `json:"mode"`
	State string  `json:"state"` // final ICE state: connected, failed, ...
	// LocalCandidates and RemoteCandidates are every gathered candidate.
	LocalCandidates  []ICECandidate `json:"local_candidates"`
	RemoteCandidates []ICECandidate `json:"remote_candidates"`
	Pairs            []ICEPair      `json:"pairs"`
	Selected         *ICEPair       `json:"selected,omitempty"`
	GatheringMS      float64        `json:"gathering_ms"`
	ConnectedMS      float64        `json:"connected_ms,omitempty"`
	Media            *MediaStats    `json:"media,omitempty"`

	// Servers are the STUN/TURN URLs the local agent used (never with
	// credentials).
	Servers []string `json:"servers,omitempty"`
	// PeerServers are the STUN/TURN URLs of the other agent (the in-process
	// peer, or what the responder used).
	PeerServers []string `json:"peer_servers,omitempty"`
	// TURNCredentials says what kind of TURN credentials were used:
	// "long-term", "rest", "responder" (handed out by the responder) or
	// "none"; never the secret.
	TURNCredentials CredentialKind `json:"turn_credentials"`
	// PeerGatheringMS is how long the other agent gathered.
	PeerGatheringMS float64 `json:"peer_gathering_ms,omitempty"`
	// GatherTimedOut is true when gathering was cut off by its bound
	// (a silent STUN/TURN server holds gathering for seconds).
	GatherTimedOut bool `json:"gather_timed_out,omitempty"`
	// GatherErrors are the agents' own words on what went wrong while
	// gathering (e.g. a TURN allocation refused), deduplicated, redacted.
	GatherErrors []string `json:"gather_errors,omitempty"`
	// RelayExpected is true when a TURN server was configured, so a
	// missing relay candidate means TURN trouble (ICE hides the reason;
	// the turn check gives it).
	RelayExpected bool `json:"relay_expected"`
	// SelectedVia summarises the selected path: "host", "srflx", "prflx",
	// "relay/udp", "relay/tcp", "relay/tls" (the relay's transport is how
	// media reaches the TURN server).
	SelectedVia string `json:"selected_via,omitempty"`
	// Signalling is the two-ended exchange with the responder.
	Signalling *ICESignalling `json:"signalling,omitempty"`
}

// ClientRelayOverTCP: the selected pair's local candidate is a relay this
// client reaches over TCP or TLS, which is what a path without UDP makes
// ICE fall back to.
func (d *ICEDetails) ClientRelayOverTCP() bool {
	if d == nil || d.Selected == nil {
		return false
	}
	l := d.Selected.Local
	return l.Type == CandidateRelay && (l.RelayProtocol == "tcp" || l.RelayProtocol == "tls")
}

// ICESignalling is the evidence of the offer/answer exchange with a
// ucprobe responder.
type ICESignalling struct {
	URL string `json:"url"`
	// Stage is how far the exchange got: "connect", "offer", "answer",
	// "done".
	Stage      SignallingStage `json:"stage"`
	StatusCode int             `json:"status_code,omitempty"`
	Software   string          `json:"software,omitempty"`
	Session    string          `json:"session,omitempty"`
	RTTMS      float64         `json:"rtt_ms,omitempty"` // the offer request's round trip
}

// ICECandidate is one gathered candidate.
type ICECandidate struct {
	ID            string        `json:"id"`
	Type          CandidateType `json:"type"`
	Protocol      string        `json:"protocol"` // udp, tcp
	Address       string        `json:"address"`
	Port          int           `json:"port"`
	RelayProtocol string        `json:"relay_protocol,omitempty"` // udp, tcp, tls for relay candidates
}

// ICEPair is one row of the candidate-pair table.
type ICEPair struct {
	Local             ICECandidate `json:"local"`
	Remote            ICECandidate `json:"remote"`
	State             PairState    `json:"state"`
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

	// PacketBytes is the size of one packet (RTP header + payload) and
	// PacketMS the packetisation interval.
	PacketBytes int `json:"packet_bytes"`
	PacketMS    int `json:"packet_ms"`
	// RTTMinMS and RTTMaxMS bound the echoed round trips.
	RTTMinMS float64 `json:"rtt_min_ms"`
	RTTMaxMS float64 `json:"rtt_max_ms"`
	// LossUpPct is the loss towards the peer (counted by the peer) and
	// LossDownPct the loss of the peer's echoes on the way back.
	LossUpPct   float64 `json:"loss_up_pct"`
	LossDownPct float64 `json:"loss_down_pct"`
	// JitterUpMS is RFC 3550 interarrival jitter as the peer measured it
	// on the stream towards it.
	JitterUpMS float64 `json:"jitter_up_ms"`
	Duplicates int     `json:"duplicates,omitempty"`
	// RFactor is the E-model transmission rating the MOS comes from.
	RFactor float64 `json:"r_factor"`
	// CutShort is true when the check's deadline ended the window early.
	CutShort bool `json:"cut_short,omitempty"`
	// RequestedS is the window asked for (--media or the profile's) when
	// the run's budget shrank it to DurationS beforehand: a planned fit,
	// not a cut.
	RequestedS float64 `json:"requested_s,omitempty"`
	// Skipped says why no window ran (the budget left less than a grade needs).
	Skipped string `json:"skipped,omitempty"`
	// Transport is how the packets travelled: "udp", or "tcp"/"tls" when
	// the selected pair goes through a TURN relay reached over TCP/TLS.
	Transport string `json:"transport"`
	// Path is what was measured: "" the selected ICE pair to the peer;
	// "relay-loopback" this client to its TURN server and back (no far
	// end: up and down are not told apart, LossUp/LossDown/JitterUp stay 0).
	Path string `json:"path,omitempty"`
	// Series is the window cut into intervals by send time (at most 40),
	// for a chart of round trip, jitter and loss over the window.
	Series []MediaInterval `json:"series,omitempty"`
}

// MediaInterval is one slice of the media window.
type MediaInterval struct {
	StartS    float64 `json:"start_s"`
	Sent      int     `json:"sent"`
	Received  int     `json:"received"`
	LossPct   float64 `json:"loss_pct"`
	RTTMeanMS float64 `json:"rtt_mean_ms,omitempty"`
	JitterMS  float64 `json:"jitter_ms"`
}

// ICEMode is a variant of the ice kind.
type ICEMode string

// ICE modes.
const (
	ICEOneEnded      ICEMode = "one-ended"      // this client's agent against an in-process peer through the same servers
	ICERelayRelay    ICEMode = "relay-relay"    // both ends relay-only (the estos UCConnect topology)
	ICETwoEnded      ICEMode = "two-ended"      // against the responder's agent at the far end
	ICERelayLoopback ICEMode = "relay-loopback" // this client to its own TURN relay and back (no far end)
)

// ICEModes are the modes a profile may name.
var ICEModes = []ICEMode{ICEOneEnded, ICERelayRelay, ICETwoEnded, ICERelayLoopback}

// CandidateType is an ICE candidate's type (RFC 8445).
type CandidateType string

// Candidate types.
const (
	CandidateHost  CandidateType = "host"
	CandidateSrflx CandidateType = "srflx"
	CandidatePrflx CandidateType = "prflx"
	CandidateRelay CandidateType = "relay"
)

// PairState is a candidate pair's state as pion reports it.
type PairState string

// Pair states.
const (
	PairSucceeded  PairState = "succeeded"
	PairFailed     PairState = "failed"
	PairInProgress PairState = "in-progress"
	PairWaiting    PairState = "waiting"
	PairFrozen     PairState = "frozen"
)

// SignallingStage is how far the offer/answer exchange with a responder got.
type SignallingStage string

// Signalling stages.
const (
	StageOffer  SignallingStage = "offer"
	StageAnswer SignallingStage = "answer"
	StageDone   SignallingStage = "done"
)

// CredentialKind says what kind of TURN credentials a check used; never
// the secret.
type CredentialKind string

// Credential kinds.
const (
	CredNone      CredentialKind = "none"      // none given: only the server's challenge is seen
	CredLongTerm  CredentialKind = "long-term" // a user name and password
	CredREST      CredentialKind = "rest"      // TURN REST: time-limited, from a shared secret
	CredResponder CredentialKind = "responder" // handed out by the ucprobe responder
)

package probe

// UDPOutcome is what one check learned about UDP on its path: whether
// anything came back, and if not, how the path stayed shut. It is a fact
// about that check alone (Result.UDP decides it, once); the rules that
// combine checks choose which outcomes they count.
type UDPOutcome int

// UDP outcomes.
const (
	// UDPNoEvidence: not a UDP check, skipped, or failed in a way that
	// says nothing about the path (DNS, a refused responder token, a range
	// that sent nothing).
	UDPNoEvidence UDPOutcome = iota
	// UDPAnswered: something came back over UDP (an answer, or an ICMP
	// port unreachable that proves the datagram arrived).
	UDPAnswered
	// UDPSilent: nothing came back after the retransmissions.
	UDPSilent
	// UDPSilentSample: a live sample (no responder) of a range where no
	// port answered. A media server answers only where it listens, so this
	// silence counts only beside other silence.
	UDPSilentSample
	// UDPProhibited: an ICMP administratively prohibited, or this host's
	// firewall refused the send.
	UDPProhibited
	// UDPUnroutable: ICMP net or host unreachable, or no local route.
	UDPUnroutable
)

var udpOutcomeNames = [...]string{"no evidence", "answered", "silent", "silent (live sample)", "prohibited", "unreachable"}

func (o UDPOutcome) String() string {
	if o < 0 || int(o) >= len(udpOutcomeNames) {
		return "unknown"
	}
	return udpOutcomeNames[o]
}

// GotNothing: the check's datagrams got nothing back, in any way.
func (o UDPOutcome) GotNothing() bool {
	return o == UDPSilent || o == UDPSilentSample || o == UDPProhibited || o == UDPUnroutable
}

// UDP is the check's UDP outcome.
func (r Result) UDP() UDPOutcome {
	if t := Carries(r); t != TransportUDP && t != TransportDTLS || r.Status == StatusSkip {
		return UDPNoEvidence
	}
	if r.Kind == KindUDPRange {
		return r.rangeUDP()
	}
	switch {
	case r.Status == StatusPass || r.Status == StatusWarn:
		return UDPAnswered
	case r.Status != StatusFail:
		return UDPNoEvidence
	}
	switch r.Class {
	case ClassRefused, ClassTLS, ClassProtocol, ClassAuth:
		return UDPAnswered // a port unreachable, a DTLS alert, a STUN error: the far end spoke
	case ClassTimeout:
		return UDPSilent
	case ClassProhibited:
		return UDPProhibited
	case ClassUnreachable:
		return UDPUnroutable
	}
	return UDPNoEvidence
}

// rangeUDP: a range answered when any port did (open, or closed by ICMP);
// its silence needs ports that were sent to.
func (r Result) rangeUDP() UDPOutcome {
	u := r.Details.UDPRange
	switch {
	case u == nil:
		return UDPNoEvidence
	case u.Open > 0 || u.Closed > 0:
		return UDPAnswered
	case u.Ports == 0 || r.Class == ClassAuth:
		return UDPNoEvidence // nothing sent, or the responder refused our token: its silence proves nothing
	case u.Live != nil && r.Status == StatusWarn:
		return UDPSilentSample
	case r.Status != StatusFail:
		return UDPNoEvidence
	}
	switch r.Class {
	case ClassProhibited:
		return UDPProhibited
	case ClassUnreachable:
		return UDPUnroutable
	}
	return UDPSilent
}

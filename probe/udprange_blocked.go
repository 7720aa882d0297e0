package probe

import "slices"

// IsBlocked says whether sub-range s of this range check counts as
// blocked. It is the one judgement of a blocked run: the diagnosis names
// what it says, and the HTML port strip draws the same.
//
// Sampled live (no responder), the live judgement decides (JudgeLive): a
// silent or prohibited run inside one of the runs it named. Swept with a
// responder, silence, ICMP prohibited and unreachable are blocked; closed
// (ICMP port unreachable) only when the responder's receipts were read, as
// the responder listens on every swept port: something on the way refused
// in its name. Nothing is blocked in an inconclusive check, or one whose
// token the responder refused.
func (u *UDPRangeDetails) IsBlocked(s UDPSubRange) bool {
	if u.Inconclusive || u.TokenRefused {
		return false // silence that proves nothing, or a responder that refused us
	}
	if u.Live != nil {
		if s.State != PortFiltered && s.State != PortProhibited {
			return false
		}
		return slices.ContainsFunc(u.Live.Blocked, func(b UDPSubRange) bool {
			return b.Range.First <= s.Range.First && s.Range.Last <= b.Range.Last
		})
	}
	switch s.State {
	case PortFiltered, PortProhibited, PortUnreachable:
		return true
	case PortClosed:
		return u.Receipts
	}
	return false
}

// BlockedRuns are the runs IsBlocked names: the live judgement's runs
// (each from its first to its last sampled port, silence and prohibited
// merged), or the swept sub-ranges that are blocked.
func (u *UDPRangeDetails) BlockedRuns() []UDPSubRange {
	if u.Inconclusive || u.TokenRefused {
		return nil
	}
	if u.Live != nil {
		return u.Live.Blocked
	}
	var out []UDPSubRange
	for _, s := range u.SubRanges {
		if u.IsBlocked(s) {
			out = append(out, s)
		}
	}
	return out
}

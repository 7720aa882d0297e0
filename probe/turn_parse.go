package probe

import (
	"fmt"

	"github.com/pion/stun/v4"
)

// The parsers of what a TURN server sends back, apart from the network
// code so that they can be fuzzed: a hostile server chooses every byte.

// turnDatagram sorts one datagram from the server: a STUN message
// (decoded), TURN ChannelData, or neither (m nil, channelData false).
func turnDatagram(b []byte) (m *stun.Message, channelData bool) {
	if stun.IsMessage(b) {
		m = &stun.Message{Raw: append([]byte(nil), b...)}
		if m.Decode() == nil {
			return m, false
		}
	}
	return nil, isChannelData(b)
}

// isChannelData: TURN ChannelData starts with a channel number
// 0x4000-0x7FFF and a length that fits the datagram (padded over streams).
func isChannelData(b []byte) bool {
	if len(b) < 4 || b[0]&0xC0 != 0x40 {
		return false
	}
	l := int(b[2])<<8 | int(b[3])
	return len(b) >= 4+l && len(b) <= 4+l+3
}

// turnReadChallenge reads the answer to an Allocate without credentials:
// a 401 with a realm proves a TURN server answers.
func turnReadChallenge(m *stun.Message, det *TURNDetails) error {
	var realm stun.Realm
	if realm.GetFrom(m) == nil {
		det.Realm = realm.String()
	}
	var code stun.ErrorCodeAttribute
	if code.GetFrom(m) == nil {
		det.ErrorCode, det.ErrorReason = int(code.Code), string(code.Reason)
	}
	var sw stun.Software
	if sw.GetFrom(m) == nil {
		det.Software = sw.String()
	}
	if det.ErrorCode == int(stun.CodeUnauthorized) {
		return fmt.Errorf("%w: the server answered with a 401 challenge (realm %q), so it is reachable, but the relay was not tested", ErrNoCredential, det.Realm)
	}
	return fmt.Errorf("%w: unauthenticated allocate answered %d %s", ErrSTUNError, det.ErrorCode, det.ErrorReason)
}

// turnReadAllocate copies an Allocate response's facts into det.
func turnReadAllocate(m *stun.Message, det *TURNDetails) {
	var sw stun.Software
	if sw.GetFrom(m) == nil {
		det.Software = sw.String()
	}
	var realm stun.Realm
	if realm.GetFrom(m) == nil {
		det.Realm = realm.String()
	}
	var code stun.ErrorCodeAttribute
	// A 401 is the normal challenge; a rejected password is reported by
	// pion as a TurnError and recorded from that.
	if m.Type.Class == stun.ClassErrorResponse && code.GetFrom(m) == nil && code.Code != stun.CodeUnauthorized {
		det.ErrorCode, det.ErrorReason = int(code.Code), string(code.Reason)
	}
	if m.Type.Class != stun.ClassSuccessResponse {
		return
	}
	var mapped stun.XORMappedAddress
	if mapped.GetFrom(m) == nil {
		det.MappedAddr = mapped.String()
	}
	if v, err := m.Get(stun.AttrLifetime); err == nil && len(v) == 4 {
		det.LifetimeS = int(uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3]))
	}
}

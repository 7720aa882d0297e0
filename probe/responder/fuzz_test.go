package responder

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v4"
)

// FuzzHandlePacket: any bytes in, maybe an answer out; never a panic,
// never an answer larger than the packet. Both modes (token, no token).
func FuzzHandlePacket(f *testing.F) {
	const token = "fuzz-token"
	for _, key := range []stun.MessageIntegrity{nil, Key(token)} {
		for _, sess := range []string{"a", "session-0123456789"} {
			m, _ := NewRequest(sess, key)
			f.Add(m.Raw, key != nil)
		}
	}
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw, false)
	f.Add(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware("0123456789012345678901234567890123456789"), stun.Fingerprint).Raw, false)
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42}, false)
	plain, err := New(Config{UDP: []Span{{3478, 3478}}, Rate: RateLimits{PerSource: -1, Global: -1}, MaxSessions: 8, MaxClients: 8})
	if err != nil {
		f.Fatal(err)
	}
	withToken, err := New(Config{UDP: []Span{{3478, 3478}}, Token: token, Rate: RateLimits{PerSource: -1, Global: -1}, MaxSessions: 8, MaxClients: 8})
	if err != nil {
		f.Fatal(err)
	}
	from := netip.MustParseAddrPort("[2001:db8::1]:40000")
	f.Fuzz(func(t *testing.T, in []byte, tok bool) {
		s := plain
		if tok {
			s = withToken
		}
		var sc scratch
		orig := append([]byte(nil), in...)
		out := s.handlePacket(&sc, 3478, in, from)
		if len(out) > len(in) {
			t.Fatalf("answer %d bytes to a %d-byte packet", len(out), len(in))
		}
		if string(in) != string(orig) {
			t.Fatal("handlePacket changed its input")
		}
		if out != nil {
			m := &stun.Message{Raw: append([]byte(nil), out...)}
			if err := m.Decode(); err != nil || m.Type != stun.BindingSuccess {
				t.Fatalf("answer is not a Binding success: %v", err)
			}
		}
	})
}

package responder

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/stun/v4"

	"github.com/ucprobe/ucprobe/probe/secret"
)

// NewRequest's messages are real STUN, padded to PadTo whatever the
// session length, and carry what they promise.
func TestNewRequest(t *testing.T) {
	for _, key := range []stun.MessageIntegrity{nil, Key("t")} {
		for n := 1; n <= MaxSessionLen; n++ {
			sess := strings.Repeat("s", n)
			m := mustRequest(t, sess, key)
			if len(m.Raw) > PadTo || len(m.Raw) < PadTo-3 {
				t.Errorf("session %d, key %v: %d bytes, want about %d", n, key != nil, len(m.Raw), PadTo)
			}
			got := &stun.Message{Raw: append([]byte(nil), m.Raw...)}
			if err := got.Decode(); err != nil {
				t.Fatalf("session %d: does not decode: %v", n, err)
			}
			if got.Type != stun.BindingRequest || SessionOf(got) != sess {
				t.Errorf("type %v session %q", got.Type, SessionOf(got))
			}
			if err := stun.Fingerprint.Check(got); err != nil {
				t.Errorf("fingerprint: %v", err)
			}
			if key != nil {
				if err := key.Check(got); err != nil {
					t.Errorf("integrity: %v", err)
				}
			}
		}
	}
	if _, err := NewRequest("a/b", nil); err == nil {
		t.Error("a session id with / accepted")
	}
}

// PadTo's promise: the largest answer (IPv6 XOR-MAPPED-ADDRESS, any
// session, MESSAGE-INTEGRITY, FINGERPRINT) fits in the padded request.
func TestPaddedRequestFitsAnyAnswer(t *testing.T) {
	from := netip.MustParseAddrPort("[2001:db8::1]:65535")
	for _, token := range []string{"", "t"} {
		s, err := New(Config{UDP: []Span{{1, 1}}, Token: secret.Secret(token)})
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= MaxSessionLen; n++ {
			req := mustRequest(t, strings.Repeat("s", n), Key(token))
			var sc scratch
			if out := s.handlePacket(&sc, 1, req.Raw, from); out == nil || len(out) > len(req.Raw) {
				t.Errorf("token %v, session %d: request %d bytes, answer %d bytes", token != "", n, len(req.Raw), len(out))
			}
		}
	}
}

package ice

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzAnswer: the responder decodes any client answer without panicking,
// and what it accepts keeps its bounds (seed corpus in
// testdata/fuzz/FuzzAnswer).
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"ufrag":"abcd","pwd":"abcdefghijklmnopqrstuvwx","candidates":["candidate:1 1 udp 2130706431 192.0.2.1 40000 typ host"]}`))
	f.Add([]byte(`{"ufrag":"","pwd":"x","candidates":[]}`))
	f.Add([]byte(`{"ufrag":"a","pwd":"b","candidates":["candidate:1 1 udp 1 224.0.0.1 1 typ host","candidate:2 1 udp 1 example.com 2 typ host"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ans, cands, err := decodeAnswer(data, DefaultMaxRemoteCandidates)
		if err != nil {
			if !errors.Is(err, ErrBadSignal) {
				t.Fatalf("error %v is not ErrBadSignal", err)
			}
			return
		}
		if ans.Ufrag == "" || ans.Pwd == "" || len(ans.Ufrag) > maxCredLen || len(ans.Pwd) > maxCredLen {
			t.Fatalf("accepted credentials %q/%q", ans.Ufrag, ans.Pwd)
		}
		if len(cands) > DefaultMaxRemoteCandidates {
			t.Fatalf("accepted %d candidates", len(cands))
		}
	})
}

// FuzzOffer: the client checks any offer a hostile far end sends without
// panicking, and never takes a session id that would change its URL path.
func FuzzOffer(f *testing.F) {
	f.Add([]byte(`{"schema":"ucprobe/ice/v1","software":"ucprobe","session":"0123abcd","ufrag":"abcd","pwd":"abcdefghijklmnopqrstuvwx","candidates":["candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"],"ice_servers":[{"urls":["stun:127.0.0.1:3478"]}]}`))
	f.Add([]byte(`{"session":"../../x","ufrag":"a","pwd":"b"}`))
	f.Add([]byte(`{"session":12}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Offer
		if json.Unmarshal(data, &o) != nil {
			return
		}
		if _, err := decodeOffer(&o); err != nil {
			if !errors.Is(err, ErrBadSignal) {
				t.Fatalf("error %v is not ErrBadSignal", err)
			}
			return
		}
		for _, c := range o.Session {
			if c == '/' || c == '?' || c == '#' || c == '%' {
				t.Fatalf("accepted session id %q", o.Session)
			}
		}
	})
}

package probe

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/pion/stun/v4"
)

// The fuzz targets below feed the client-side parsers what a hostile
// server could send. Seeds live in testdata/fuzz/<target>/; scripts/test.sh
// runs each target for a few seconds.

// FuzzSTUNAnswer: a Binding answer never panics the parser, and an answer
// it accepts has a mapped address.
func FuzzSTUNAnswer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &stun.Message{Raw: append([]byte(nil), data...)}
		if m.Decode() != nil {
			return
		}
		var det STUNDetails
		if err := readBindingResponse(m, &det); err == nil && det.MappedAddr == "" {
			t.Errorf("accepted an answer without a mapped address: %+v", det)
		}
	})
}

// FuzzTURNAnswer: a datagram from a TURN server is STUN, ChannelData or
// neither, never both; reading it as a challenge or an Allocate answer
// never panics, and a challenge always ends in an error (without
// credentials nothing is proven beyond reachability).
func FuzzTURNAnswer(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		m, channelData := turnDatagram(data)
		if m != nil && channelData {
			t.Fatal("a datagram is both STUN and ChannelData")
		}
		if m == nil {
			return
		}
		var det TURNDetails
		turnReadAllocate(m, &det)
		if m.Type.Class != stun.ClassSuccessResponse && (det.MappedAddr != "" || det.LifetimeS != 0) {
			t.Errorf("facts of a success read from class %v: %+v", m.Type.Class, det)
		}
		if turnReadChallenge(m, &TURNDetails{}) == nil {
			t.Error("a challenge read without an error")
		}
	})
}

// FuzzSIPAnswer: the stream framing and the response parser never panic;
// a response taken as ours has a status code from 100 to 699.
func FuzzSIPAnswer(f *testing.F) {
	const branch = "z9hG4bK-ucprobe-0011223344556677"
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sipReadStream(bufio.NewReader(bytes.NewReader(data)))
		if err == nil && len(msg) > len(data) {
			t.Fatalf("framed %d bytes out of %d", len(msg), len(data))
		}
		det := SIPDetails{LocalAddr: "127.0.0.1:5060", ViaSent: "127.0.0.1:5060"}
		code, err := sipParse(data, branch, &det)
		if err == nil && code != 0 && (code < 100 || code > 699 || det.StatusCode != code) {
			t.Errorf("code %d, details %+v", code, det)
		}
	})
}

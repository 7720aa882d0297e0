package ice

import (
	"testing"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// The signaller holds the responder token in an unexported field, where
// fmt prints a probe.Secret as the plain string unless the holder says
// otherwise: formatted any way, it shows no token.
func TestSignallerNeverPrintsToken(t *testing.T) {
	const token = "tok-s3cret-signal"
	s, _, err := loopbackChecker().signallerFor(probe.Spec{Host: "127.0.0.2"},
		&probe.Config{Responder: "127.0.0.2:8443", ResponderToken: token}, &probe.ICEDetails{})
	if err != nil {
		t.Fatal(err)
	}
	if s.token.Reveal() != token {
		t.Fatalf("the signaller does not hold the token: the test proves nothing")
	}
	for _, tc := range []struct {
		name string
		v    any
	}{{"pointer", s}, {"value", *s}} {
		probetest.NoSecretPrinted(t, tc.name, tc.v, "signaller", token)
	}
}

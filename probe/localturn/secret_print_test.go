package localturn_test

import (
	"testing"

	"github.com/ucprobe/ucprobe/probe/localturn"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// The server keeps its Config, password included, in an unexported
// field, where fmt prints even a probe.Secret in clear: printed any way,
// neither the server nor its Config shows the password.
func TestServerNeverPrintsPassword(t *testing.T) {
	const pass = "pass-s3cret-lt"
	cfg := localturn.Config{IP: "127.0.0.1", Realm: "test", User: "u", Password: pass}
	srv, err := localturn.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		name, want string
		v          any
	}{{"server", "localturn.Server", srv}, {"config", "127.0.0.1", cfg}, {"config pointer", "127.0.0.1", &cfg}} {
		probetest.NoSecretPrinted(t, tc.name, tc.v, tc.want, pass)
	}
}

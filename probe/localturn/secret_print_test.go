package localturn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe/localturn"
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
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			t.Run(tc.name+" "+verb, func(t *testing.T) {
				if out := fmt.Sprintf(verb, tc.v); strings.Contains(out, pass) || !strings.Contains(out, tc.want) {
					t.Errorf("%s", out)
				}
			})
		}
	}
}

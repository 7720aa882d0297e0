package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

// The demo site keeps its TURN credentials and token in unexported
// fields, where fmt prints a probe.Secret in clear: printed any way, it
// shows neither.
func TestDemoSiteNeverPrintsSecrets(t *testing.T) {
	d := &demoSite{creds: probe.TURNCredentials{Username: demoTURNUser, Password: "pass-s3cret-demo", SharedSecret: "rest-s3cret-demo"},
		token: "tok-s3cret-demo"}
	for _, tc := range []struct {
		name string
		v    any
	}{{"pointer", d}, {"value", *d}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			t.Run(tc.name+" "+verb, func(t *testing.T) {
				out := fmt.Sprintf(verb, tc.v)
				for _, s := range []string{"pass-s3cret-demo", "rest-s3cret-demo", "tok-s3cret-demo"} {
					if strings.Contains(out, s) {
						t.Errorf("%q in %s", s, out)
					}
				}
				if !strings.Contains(out, "demoSite") {
					t.Errorf("%s does not name the site", out)
				}
			})
		}
	}
}

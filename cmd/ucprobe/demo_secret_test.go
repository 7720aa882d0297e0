package main

import (
	"testing"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
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
		probetest.NoSecretPrinted(t, tc.name, tc.v, "demoSite", "pass-s3cret-demo", "rest-s3cret-demo", "tok-s3cret-demo")
	}
}

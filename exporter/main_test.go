package exporter

import (
	"os"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// No test sends a DNS query: every name but localhost is unknown.
func TestMain(m *testing.M) {
	resolver = probetest.NXResolver{}
	os.Exit(m.Run())
}

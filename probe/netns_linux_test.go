//go:build linux

package probe

import (
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// Short names for the namespace helpers of probetest.
func testNetns(t *testing.T) string                 { return probetest.NewNetns(t) }
func nsRun(t *testing.T, ns string, args ...string) { probetest.NsRun(t, ns, args...) }
func inNetns(t *testing.T, ns string, fn func())    { probetest.InNetns(t, ns, fn) }

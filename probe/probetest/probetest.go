// Package probetest has helpers for tests that need real servers and
// tools (coturn, sipp, root for namespaces).
package probetest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Strict reports whether missing tools must fail tests instead of skipping
// them. scripts/test.sh sets UCPROBE_CI=1 after installing everything, so
// CI can never pass by skipping.
func Strict() bool { return os.Getenv("UCPROBE_CI") == "1" }

// NeedBinary returns the path of a tool, or skips the test (fails it under
// UCPROBE_CI=1) with a message that says what to install.
func NeedBinary(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not found (apt-get install -y %s)", name, debianPackage)
	}
	return p
}

// NeedRoot skips (fails under UCPROBE_CI=1) when not running as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (network namespaces)")
	}
}

// Unavailable skips the test, or fails it under UCPROBE_CI=1.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf("UCPROBE_CI=1 and a test prerequisite is missing: "+format, args...)
	}
	t.Skipf(format, args...)
}

// MustRun runs a command and fails the test on error, with its output.
func MustRun(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

//go:build !linux

package probetest

import "testing"

// NewNetns: network namespaces are Linux only; elsewhere the test is
// unavailable (a failure under UCPROBE_CI, which runs on Linux anyway).
func NewNetns(t testing.TB) string {
	t.Helper()
	Unavailable(t, "network namespaces need Linux")
	return ""
}

// NsRun is unavailable outside Linux.
func NsRun(t testing.TB, ns string, args ...string) {
	t.Helper()
	Unavailable(t, "network namespaces need Linux")
}

// InNetns is unavailable outside Linux.
func InNetns(t testing.TB, ns string, fn func()) {
	t.Helper()
	Unavailable(t, "network namespaces need Linux")
}

// NsNft is unavailable outside Linux.
func NsNft(t testing.TB, ns, rules string) {
	t.Helper()
	Unavailable(t, "network namespaces need Linux")
}

// Reexec needs Linux network namespaces.
func Reexec(t testing.TB, ns, helper string, env ...string) string {
	Unavailable(t, "network namespaces need Linux")
	return ""
}

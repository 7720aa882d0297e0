//go:build linux

package probetest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// NewNetns creates a network namespace for one test, with lo up, and
// removes it (and with it every interface and firewall rule inside) in
// t.Cleanup. Traffic of the test stays inside it. It needs root.
func NewNetns(t testing.TB) string {
	t.Helper()
	NeedRoot(t)
	NeedBinary(t, "ip", "iproute2")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "ucpt-" + hex.EncodeToString(b)
	MustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	NsRun(t, name, "ip", "link", "set", "lo", "up")
	return name
}

// NsRun runs a command inside the namespace and fails the test on error.
func NsRun(t testing.TB, ns string, args ...string) {
	t.Helper()
	MustRun(t, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// InNetns runs fn on an OS thread switched into the namespace. Sockets
// created there stay in the namespace after the thread is gone; the
// thread is never unlocked, so the runtime discards it afterwards instead
// of reusing it in the wrong namespace. (Goroutines fn starts run
// elsewhere: net/http dials, for one, do not stay in the namespace.)
func InNetns(t testing.TB, ns string, fn func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		fn()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("enter netns %s: %v", ns, err)
	}
}

// NsNft loads an nft ruleset (nft -f -) inside the namespace and fails
// the test on error.
func NsNft(t testing.TB, ns, rules string) {
	t.Helper()
	NeedBinary(t, "nft", "nftables")
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v\n%s\n%s", ns, err, out, rules)
	}
}

// Reexec runs this test binary's test named helper inside ns, with env
// added, and returns what it printed: for code that must run wholly in
// the namespace (its sockets, routes and environment reading). It fails t
// when the child fails.
func Reexec(t testing.TB, ns, helper string, env ...string) string {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in netns %s: %v\n%s", helper, ns, err, out)
	}
	return string(out)
}

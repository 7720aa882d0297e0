//go:build linux

package responder

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// The netns helpers of probe/netns_linux_test.go (test files do not
// export them).

// testNetns creates a network namespace for one test and removes it (and
// with it every interface inside) in t.Cleanup.
func testNetns(t *testing.T) string {
	t.Helper()
	probetest.NeedRoot(t)
	probetest.NeedBinary(t, "ip", "iproute2")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "ucpt-" + hex.EncodeToString(b)
	mustRun(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	nsRun(t, name, "ip", "link", "set", "lo", "up")
	return name
}

// nsRun runs a command inside the namespace and fails the test on error.
func nsRun(t *testing.T, ns string, args ...string) {
	t.Helper()
	mustRun(t, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// inNetns runs fn on an OS thread switched into the namespace. Sockets
// created there stay in the namespace after the thread is gone; the
// thread is never unlocked, so the runtime discards it afterwards instead
// of reusing it in the wrong namespace.
func inNetns(t *testing.T, ns string, fn func()) {
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

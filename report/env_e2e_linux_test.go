//go:build linux

package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"golang.org/x/sys/unix"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/profiles"
)

// The end-to-end path of this package's environment rules: real checks
// (the runner and the TCP prober), the real environment
// (GatherEnvironment), the diagnosis, all inside a network namespace the
// test builds. The run happens in a child process started with
// `ip netns exec`, so every thread of it is in the namespace.

const helperEnv = "UCPROBE_E2E_NETNS_SERVER"

// TestHelperNetnsRun is the child: it runs the xphone profile against the
// server in $UCPROBE_E2E_NETNS_SERVER and prints the report as JSON.
func TestHelperNetnsRun(t *testing.T) {
	server := os.Getenv(helperEnv)
	if server == "" {
		t.Skip("helper for TestEnvironmentDiagnosisInNamespace")
	}
	p, err := profiles.Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Checks {
		p.Checks[i].Timeout = profiles.Duration(400 * time.Millisecond)
	}
	specs, err := p.Plan(map[string]string{"server": server})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &probe.Config{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	results := (&probe.Runner{Config: cfg, Probers: probe.DefaultProbers()}).Run(ctx, specs)
	envCtx, envCancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer envCancel()
	env := probe.GatherEnvironment(envCtx, results)
	rep := Build(p, map[string]string{"server": server}, "e2e", time.Now(), time.Second, results, env, probe.RunInfo{})
	b, _ := json.Marshal(rep)
	fmt.Printf("REPORT %s\n", b)
}

func TestEnvironmentDiagnosisInNamespace(t *testing.T) {
	probetest.NeedRoot(t)
	probetest.NeedBinary(t, "ip", "iproute2")
	// A client on a LAN without a default route; in the second namespace
	// also a running VPN tunnel that carries the company network
	// 172.16.5.0/24 (nothing answers in it: the far end is missing).
	plain := clientNetns(t, false)
	withVPN := clientNetns(t, true)
	cases := []struct {
		ns, server string
		headline   Cause
		route      func(probe.Route) bool
	}{
		// Private address, no route, no VPN up.
		{plain, "10.20.0.5", cause.VPNRequired, func(r probe.Route) bool { return r.NoRoute }},
		// Public address, no route: a routing problem, not a VPN one.
		{plain, "198.51.100.7", cause.NoRoute, func(r probe.Route) bool { return r.NoRoute }},
		// A VPN is up but does not route the private address: no-route
		// (the VPN's routes), not vpn-required.
		{withVPN, "10.20.0.5", cause.NoRoute, func(r probe.Route) bool { return r.NoRoute }},
		// Through the running tunnel, the SYN gets no answer: the VPN is
		// up, so this is a blocked port, not vpn-required.
		{withVPN, "172.16.5.9", cause.TCPBlocked, func(r probe.Route) bool { return r.ViaVPN && r.Interface == "vpn0" }},
	}
	for _, c := range cases {
		vpn := c.ns == withVPN
		t.Run(fmt.Sprintf("%s vpn=%v", c.server, vpn), func(t *testing.T) {
			out := probetest.Reexec(t, c.ns, "TestHelperNetnsRun", helperEnv+"="+c.server)
			_, js, ok := strings.Cut(out, "REPORT ")
			if !ok {
				t.Fatalf("no report in child output:\n%s", out)
			}
			js, _, _ = strings.Cut(js, "\n")
			var rep Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatalf("report: %v\n%s", err, js)
			}
			if h := rep.Headline(); h == nil || h.Cause != c.headline {
				t.Fatalf("headline %v, want %s; findings %+v", h, c.headline, rep.Findings)
			}
			if len(rep.Environment.Routes) != 1 || !c.route(rep.Environment.Routes[0]) {
				t.Errorf("routes = %+v", rep.Environment.Routes)
			}
			if rep.Environment.VPN.Up != vpn || vpn && rep.Environment.VPN.Interfaces[0] != "vpn0" {
				t.Errorf("vpn = %+v, want up=%v", rep.Environment.VPN, vpn)
			}
		})
	}
}

func clientNetns(t *testing.T, vpn bool) string {
	t.Helper()
	ns := makeNetns(t)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	run("link", "set", "lo", "up")
	run("link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
	run("addr", "add", "192.168.1.20/24", "dev", "lan0")
	run("link", "set", "lan0", "up")
	run("link", "set", "lan1", "up")
	if vpn {
		tunInNetns(t, ns, "vpn0")
		run("addr", "add", "10.99.0.2/24", "dev", "vpn0")
		run("link", "set", "vpn0", "up")
		run("route", "add", "172.16.5.0/24", "dev", "vpn0")
	}
	return ns
}

func makeNetns(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "ucpe-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return name
}

// tunInNetns creates a tun device inside ns, held open (carrier up, like
// a running VPN client) until the test ends.
func tunInNetns(t *testing.T, ns, name string) {
	t.Helper()
	type res struct {
		fd  int
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		nsfd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{-1, err}
			return
		}
		defer unix.Close(nsfd)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			ch <- res{-1, err}
			return
		}
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- res{-1, err}
			return
		}
		ifr, _ := unix.NewIfreq(name)
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			ch <- res{-1, err}
			return
		}
		ch <- res{fd, nil}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("tun %s in %s: %v", name, ns, r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
}

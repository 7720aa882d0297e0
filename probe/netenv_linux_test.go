//go:build linux

package probe

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openTun creates a tun device owned by the returned fd (carrier up while
// it is open, like a running VPN client) on a thread inside ns.
func openTun(t *testing.T, ns, name string) {
	t.Helper()
	fd := -1
	inNetns(t, ns, func() {
		f, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open /dev/net/tun: %v", err)
			return
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			t.Error(err)
			unix.Close(f)
			return
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(f, unix.TUNSETIFF, ifr); err != nil {
			t.Errorf("TUNSETIFF %s: %v", name, err)
			unix.Close(f)
			return
		}
		fd = f
	})
	if fd < 0 {
		t.FailNow()
	}
	t.Cleanup(func() { unix.Close(fd) })
}

func gatherIn(t *testing.T, ns string, checks []Result) Environment {
	t.Helper()
	var env Environment
	inNetns(t, ns, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		env = GatherEnvironment(ctx, checks)
	})
	return env
}

func ifaceNamed(env Environment, name string) (Interface, bool) {
	i := slices.IndexFunc(env.Interfaces, func(it Interface) bool { return it.Name == name })
	if i < 0 {
		return Interface{}, false
	}
	return env.Interfaces[i], true
}

func routeTo(env Environment, dst string) (Route, bool) {
	i := slices.IndexFunc(env.Routes, func(r Route) bool { return r.Destination == dst })
	if i < 0 {
		return Route{}, false
	}
	return env.Routes[i], true
}

// TestGatherEnvironmentVPNLab builds a client like the lab's: a LAN
// (veth) with the default route, a running tun VPN with a small MTU that
// carries the company's private network, a dead tun (client exited), a
// bridge; then checks what the environment says about each.
func TestGatherEnvironmentVPNLab(t *testing.T) {
	ns := testNetns(t)
	nsRun(t, ns, "ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
	nsRun(t, ns, "ip", "addr", "add", "10.10.0.2/24", "dev", "lan0")
	nsRun(t, ns, "ip", "link", "set", "lan0", "up")
	nsRun(t, ns, "ip", "link", "set", "lan1", "up")
	nsRun(t, ns, "ip", "route", "add", "default", "via", "10.10.0.1", "dev", "lan0")
	openTun(t, ns, "vpn0")
	nsRun(t, ns, "ip", "addr", "add", "10.99.0.2/24", "dev", "vpn0")
	nsRun(t, ns, "ip", "link", "set", "vpn0", "mtu", "1280", "up")
	nsRun(t, ns, "ip", "route", "add", "172.16.5.0/24", "dev", "vpn0")
	nsRun(t, ns, "ip", "tuntap", "add", "dev", "dead0", "mode", "tun")
	nsRun(t, ns, "ip", "link", "set", "dead0", "up")
	nsRun(t, ns, "ip", "link", "add", "br0", "type", "bridge")
	nsRun(t, ns, "ip", "route", "add", "unreachable", "203.0.113.0/24")

	checks := []Result{
		{ID: "dns:pbx.example", Kind: KindDNS, Host: "pbx.example", Status: StatusPass,
			Details: Details{DNS: &DNSDetails{Name: "pbx.example", A: []string{"172.16.5.9", "198.51.100.7"}, AAAA: []string{}}}},
		{ID: "signalling@172.16.5.9", Kind: KindTCP, Host: "pbx.example", Address: "172.16.5.9", Status: StatusPass},
		{ID: "signalling@198.51.100.7", Kind: KindTCP, Host: "pbx.example", Address: "198.51.100.7", Status: StatusFail, Class: ClassTimeout},
		{ID: "stun", Kind: KindSTUN, Host: "203.0.113.10", Status: StatusFail, Class: ClassUnreachable},
		{ID: "turn6", Kind: KindTURN, Host: "2001:db8::5", Status: StatusFail, Class: ClassUnreachable},
		{ID: "skipped", Kind: KindTCP, Host: "198.51.100.99", Status: StatusSkip},
	}
	env := gatherIn(t, ns, checks)

	want := map[string]struct {
		kind    InterfaceKind
		vpn     bool
		running bool
		osType  string
	}{
		"lo":    {IfLoopback, false, true, "ARPHRD 772"},
		"lan0":  {IfVirtual, false, true, "veth"},
		"vpn0":  {IfTunnel, true, true, "tun"},
		"dead0": {IfTunnel, true, false, "tun"},
		"br0":   {IfVirtual, false, false, "bridge"},
	}
	for name, w := range want {
		it, ok := ifaceNamed(env, name)
		if !ok {
			t.Errorf("interface %s missing: %+v", name, env.Interfaces)
			continue
		}
		if it.Kind != w.kind || it.VPN != w.vpn || it.Running != w.running || it.OSType != w.osType {
			t.Errorf("%s: kind %s vpn %v running %v os %q; want %s %v %v %q", name, it.Kind, it.VPN, it.Running, it.OSType, w.kind, w.vpn, w.running, w.osType)
		}
	}
	if it, _ := ifaceNamed(env, "vpn0"); it.MTU != 1280 || it.VPNHow != "linux link kind tun" || !slices.Contains(it.Addrs, "10.99.0.2/24") {
		t.Errorf("vpn0 = %+v", it)
	}
	if !env.VPN.Up || !slices.Equal(env.VPN.Interfaces, []string{"vpn0"}) {
		t.Errorf("VPN = %+v, want up with vpn0 only (dead0 has no carrier)", env.VPN)
	}
	if !env.IPv4 || env.IPv6 {
		t.Errorf("IPv4 %v IPv6 %v, want true false", env.IPv4, env.IPv6)
	}

	if r, ok := routeTo(env, "172.16.5.9"); !ok || r.Interface != "vpn0" || !r.ViaVPN || r.MTU != 1280 || r.Source != "10.99.0.2" || r.How != "netlink" {
		t.Errorf("route to 172.16.5.9 = %+v, want vpn0 via VPN, mtu 1280, src 10.99.0.2", r)
	}
	if r, ok := routeTo(env, "198.51.100.7"); !ok || r.Interface != "lan0" || r.ViaVPN || r.Gateway != "10.10.0.1" || r.NoRoute {
		t.Errorf("route to 198.51.100.7 = %+v, want lan0 gw 10.10.0.1", r)
	}
	if r, ok := routeTo(env, "203.0.113.10"); !ok || !r.NoRoute {
		t.Errorf("route to 203.0.113.10 = %+v, want no route (unreachable route)", r)
	}
	if r, ok := routeTo(env, "2001:db8::5"); !ok || !r.NoRoute {
		t.Errorf("route to 2001:db8::5 = %+v, want no route (no IPv6 routes)", r)
	}
	if _, ok := routeTo(env, "198.51.100.99"); ok {
		t.Error("a skipped check's address was looked up")
	}
	if len(env.Routes) != 4 {
		t.Errorf("%d routes, want 4: %+v", len(env.Routes), env.Routes)
	}

	if len(env.DefaultRoutes) != 1 || env.DefaultRoutes[0].Interface != "lan0" || env.DefaultRoutes[0].Gateway != "10.10.0.1" ||
		env.DefaultRoutes[0].Family != "ipv4" || env.DefaultRoutes[0].Table != unix.RT_TABLE_MAIN {
		t.Errorf("default routes = %+v", env.DefaultRoutes)
	}
	if len(env.Names) != 1 || !env.Names[0].Mixed || env.Names[0].Addrs[0].Scope != ScopePrivate || env.Names[0].Addrs[1].Scope != ScopePublic {
		t.Errorf("names = %+v, want pbx.example mixed private/public", env.Names)
	}
	for _, u := range env.Unknown {
		if strings.Contains(u, "IPv4 default") {
			t.Errorf("unexpected unknown: %s", u)
		}
	}

	// The portable fallback agrees with netlink on the same namespace.
	var byConnect Route
	var defaults []Route
	inNetns(t, ns, func() {
		byConnect, _ = routeByConnect(mustAddr("172.16.5.9"), env.Interfaces)
		defaults = defaultRoutesByConnect(env.Interfaces)
	})
	if byConnect.Interface != "vpn0" || byConnect.Source != "10.99.0.2" || byConnect.How != "udp-connect" {
		t.Errorf("udp-connect route = %+v, want vpn0 from 10.99.0.2", byConnect)
	}
	if len(defaults) != 1 || defaults[0].Interface != "lan0" || defaults[0].Family != "ipv4" {
		t.Errorf("udp-connect default routes = %+v, want lan0 (ipv4)", defaults)
	}
}

// TestGatherEnvironmentIPv6OnlyNoDefault: a client with only an IPv6
// address and no default route says so instead of guessing.
func TestGatherEnvironmentIPv6OnlyNoDefault(t *testing.T) {
	ns := testNetns(t)
	nsRun(t, ns, "ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
	nsRun(t, ns, "ip", "addr", "add", "2001:db8:1::2/64", "dev", "lan0", "nodad")
	nsRun(t, ns, "ip", "link", "set", "lan0", "up")
	nsRun(t, ns, "ip", "link", "set", "lan1", "up")
	env := gatherIn(t, ns, []Result{
		{ID: "tcp", Kind: KindTCP, Host: "198.51.100.7", Status: StatusFail, Class: ClassUnreachable},
		{ID: "tcp6", Kind: KindTCP, Host: "2001:db8:1::9", Status: StatusFail, Class: ClassTimeout},
	})
	if env.IPv4 || !env.IPv6 {
		t.Errorf("IPv4 %v IPv6 %v, want false true", env.IPv4, env.IPv6)
	}
	for _, want := range []string{"IPv6-only", "no IPv6 default route"} {
		if !slices.ContainsFunc(env.Unknown, func(u string) bool { return strings.Contains(u, want) }) {
			t.Errorf("Unknown %q lacks %q", env.Unknown, want)
		}
	}
	if r, _ := routeTo(env, "198.51.100.7"); !r.NoRoute {
		t.Errorf("route to 198.51.100.7 = %+v, want none", r)
	}
	if r, _ := routeTo(env, "2001:db8:1::9"); r.Interface != "lan0" || r.NoRoute {
		t.Errorf("route to 2001:db8:1::9 = %+v, want lan0", r)
	}
	if len(env.DefaultRoutes) != 0 {
		t.Errorf("default routes = %+v, want none", env.DefaultRoutes)
	}
}

// TestNetlinkRouteInterfaceGone: a route whose interface index is not in
// the list read before (it vanished) is an error naming it, not a guess.
func TestNetlinkRouteInterfaceGone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := linuxEnv{}.route(ctx, mustAddr("127.0.0.1"), []Interface{{Name: "eth9", Index: 999}})
	if err == nil || !strings.Contains(err.Error(), "interface index 1") {
		t.Fatalf("err = %v, want interface index 1 gone", err)
	}
	// GatherEnvironment falls back and, when that fails too, says so.
}

func TestNetlinkCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := netlinkLinks(ctx); err == nil {
		t.Error("netlink request ran on a canceled context")
	}
}

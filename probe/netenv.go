package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
)

// GatherEnvironment records the client's interfaces, the route the OS
// uses to every probed address, VPN tunnels, proxy settings, the names'
// addresses and the NAT seen by STUN. It sends no packet: routes come from
// the kernel (Linux netlink) or from connecting a UDP socket, which only
// asks the routing table. What it cannot learn it lists in Unknown
// instead of guessing. It is bounded by ctx (cmd gives it 2 s).
func GatherEnvironment(ctx context.Context, checks []Result) Environment {
	return GatherHost(ctx).WithChecks(ctx, checks)
}

// Host is the part of the environment that does not depend on the
// checks: interfaces, VPN tunnels and default routes. The pipeline reads it
// while the checks run, so it costs the run no time of its own, and it
// then shows the host as it was during the checks.
type Host struct {
	env Environment
}

// GatherHost reads the interfaces and default routes, bounded by ctx.
func GatherHost(ctx context.Context) Host {
	env := Environment{Interfaces: []Interface{}, Routes: []Route{}}
	sys := newOSEnv()
	ifs, err := sys.interfaces(ctx)
	if err != nil {
		env.Unknown = append(env.Unknown, "interfaces: "+err.Error())
	}
	env.Interfaces = ifs
	env.VPN = vpnSummary(ifs)
	env.IPv4, env.IPv6 = families(ifs)

	defaults, err := sys.defaultRoutes(ctx, ifs)
	if err != nil {
		env.Unknown = append(env.Unknown, "default routes: "+err.Error())
	} else {
		env.DefaultRoutes = defaults
		if !slices.ContainsFunc(defaults, func(r Route) bool { return r.Family == "ipv4" }) && env.IPv4 {
			env.Unknown = append(env.Unknown, "no IPv4 default route: only directly routed IPv4 networks are reachable")
		}
		if !slices.ContainsFunc(defaults, func(r Route) bool { return r.Family == "ipv6" }) && env.IPv6 {
			env.Unknown = append(env.Unknown, "no IPv6 default route")
		}
	}
	if !env.IPv4 && env.IPv6 {
		env.Unknown = append(env.Unknown, "this client has no IPv4 address (IPv6-only): IPv4-only servers cannot be reached without NAT64")
	}
	return Host{env: env}
}

// WithChecks completes the environment with what depends on the checks:
// the route to every probed address, the names' addresses and the NAT
// seen by STUN.
func (h Host) WithChecks(ctx context.Context, checks []Result) Environment {
	env := h.env
	env.Unknown = slices.Clone(h.env.Unknown)
	env.DefaultRoutes = slices.Clone(h.env.DefaultRoutes)
	env.Routes = []Route{}
	ifs, sys := env.Interfaces, newOSEnv()
	for _, dst := range probedAddrs(checks) {
		if ctx.Err() != nil {
			env.Unknown = append(env.Unknown, "route lookups cut short: "+ctx.Err().Error())
			break
		}
		r, err := sys.route(ctx, dst, ifs)
		if err != nil && !r.NoRoute {
			// The OS lookup failed; ask the portable way before giving up.
			if fr, ferr := routeByConnect(dst, ifs); ferr == nil || fr.NoRoute {
				r, err = fr, nil
			}
		}
		if err != nil {
			env.Unknown = append(env.Unknown, fmt.Sprintf("route to %s: %v", dst, err))
			continue
		}
		markRoute(&r, ifs, &env)
		env.Routes = append(env.Routes, r)
	}
	for i := range env.DefaultRoutes {
		markRoute(&env.DefaultRoutes[i], ifs, nil)
	}
	env.Names = namesOf(checks)
	env.NAT = natOf(checks, ifs)
	env.Proxy = proxyFromEnv()
	return env
}

// osEnv is what each OS provides (netenv_<os>.go).
type osEnv interface {
	interfaces(ctx context.Context) ([]Interface, error)
	// route is the route to dst; a missing route is a Route with NoRoute
	// and a nil error. An error means the lookup itself failed.
	route(ctx context.Context, dst netip.Addr, ifs []Interface) (Route, error)
	defaultRoutes(ctx context.Context, ifs []Interface) ([]Route, error)
}

// markRoute fills what the interface list says about a route's interface
// and notes an interface that vanished since the list was read.
func markRoute(r *Route, ifs []Interface, env *Environment) {
	if r.NoRoute || r.Interface == "" {
		return
	}
	i := slices.IndexFunc(ifs, func(it Interface) bool { return it.Name == r.Interface })
	if i < 0 {
		if env != nil {
			env.Unknown = append(env.Unknown, fmt.Sprintf("route to %s uses interface %s, which is gone: it disappeared during the run", r.Destination, r.Interface))
		}
		return
	}
	r.ViaVPN = ifs[i].VPN
	r.MTU = ifs[i].MTU
}

// probedAddrs are the distinct IP addresses the checks went to, in order.
func probedAddrs(checks []Result) []netip.Addr {
	var out []netip.Addr
	for _, c := range checks {
		s := c.Address
		if s == "" {
			s = c.Host
		}
		a, err := netip.ParseAddr(s)
		if err != nil || c.Status == StatusSkip && c.Address == "" {
			continue
		}
		a = a.Unmap().WithZone("")
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// routeByConnect is the portable route lookup: connecting a UDP socket
// sends nothing, it only makes the kernel pick the route and the source
// address, which is then mapped to its interface.
func routeByConnect(dst netip.Addr, ifs []Interface) (Route, error) {
	r := Route{Destination: dst.String(), How: "udp-connect", Family: familyOf(dst)}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		if c := Classify(err); c == ClassUnreachable {
			r.NoRoute = true
			return r, nil
		}
		return r, err
	}
	defer conn.Close()
	src := conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	r.Source = src.String()
	if it, ok := interfaceWithAddr(ifs, src); ok {
		r.Interface = it.Name
		return r, nil
	}
	return r, fmt.Errorf("source address %s belongs to no interface listed: %w", src, errInterfaceGone)
}

// errInterfaceGone: an interface the OS named is no longer there.
var errInterfaceGone = errors.New("interface not found (it may have disappeared during the run)")

func interfaceWithAddr(ifs []Interface, a netip.Addr) (Interface, bool) {
	for _, it := range ifs {
		for _, s := range it.Addrs {
			if p, err := netip.ParsePrefix(s); err == nil && p.Addr().WithZone("") == a.WithZone("") {
				return it, true
			}
		}
	}
	return Interface{}, false
}

func familyOf(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "ipv4"
	}
	return "ipv6"
}

// vpnSummary lists the VPN interfaces that are up and running.
func vpnSummary(ifs []Interface) VPNInfo {
	var v VPNInfo
	for _, it := range ifs {
		if it.VPN && it.Up && it.Running {
			v.Up = true
			v.Interfaces = append(v.Interfaces, it.Name)
		}
	}
	return v
}

// families reports whether any running interface has a global address of
// each family.
func families(ifs []Interface) (v4, v6 bool) {
	for _, it := range ifs {
		if !it.Up || it.Kind == IfLoopback {
			continue
		}
		for _, s := range it.Addrs {
			p, err := netip.ParsePrefix(s)
			if err != nil || !p.Addr().IsGlobalUnicast() {
				continue
			}
			if p.Addr().Is4() {
				v4 = true
			} else {
				v6 = true
			}
		}
	}
	return v4, v6
}

// AddrScope says where an address lives: public, private (RFC 1918 /
// RFC 4193), cgnat (RFC 6598), loopback, link-local or other. The
// documentation ranges count as public (the lab uses them as such).
func AddrScope(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ScopeOther
	}
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return ScopeLoopback
	case a.IsLinkLocalUnicast():
		return ScopeLinkLocal
	case a.IsPrivate():
		return ScopePrivate
	case cgnat.Contains(a):
		return ScopeCGNAT
	case a.IsGlobalUnicast():
		return ScopePublic
	}
	return ScopeOther
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// IsInternal reports whether an address is only reachable inside a site
// network (private or CGNAT): the addresses a VPN usually leads to.
func IsInternal(s string) bool {
	sc := AddrScope(s)
	return sc == ScopePrivate || sc == ScopeCGNAT
}

// namesOf lists every resolved name with its addresses' scopes.
func namesOf(checks []Result) []NameInfo {
	var out []NameInfo
	for _, c := range checks {
		d := c.Details.DNS
		if c.Kind != KindDNS || d == nil {
			continue
		}
		n := NameInfo{Name: d.Name, Addrs: []AddrInfo{}}
		var internal, public bool
		for _, a := range d.Addresses() {
			sc := AddrScope(a)
			n.Addrs = append(n.Addrs, AddrInfo{Addr: a, Scope: sc})
			internal = internal || IsInternal(a)
			public = public || sc == ScopePublic
		}
		n.Mixed = internal && public
		out = append(out, n)
	}
	return out
}

// natOf takes the NAT behaviour from the first STUN check that measured
// it; without one, the first mapped address still shows the public
// address (mapping unknown, or none when it is one of ours).
func natOf(checks []Result, ifs []Interface) *NATInfo {
	// A STUN check's or a TURN check's (through the relay); one that
	// determined the mapping beats one that did not, a symmetric one all,
	// and a full verdict a partial one (destination-dependent from RFC
	// 5780 test II alone, where the relay saw the port decide).
	var best *NATInfo
	rank := func(n *NATInfo) int {
		switch {
		case n == nil:
			return -1
		case n.Mapping == NATUnknown:
			return 0
		}
		r := 1
		if n.Mapping.Symmetric() {
			r = 3
		}
		if n.Undetermined == "" {
			r++
		}
		return r
	}
	for _, c := range checks {
		var n *NATInfo
		if s := c.Details.STUN; s != nil {
			n = s.NAT
		} else if t := c.Details.TURN; t != nil {
			n = t.NAT
		}
		if rank(n) > rank(best) {
			best = n
		}
	}
	if best != nil {
		n := *best
		return &n
	}
	for _, c := range checks {
		s := c.Details.STUN
		if s == nil || s.MappedAddr == "" || c.Status == StatusFail {
			continue
		}
		n := &NATInfo{Mapping: NATUnknown, PublicAddr: s.MappedAddr, Checks: []string{c.ID}}
		if ap, err := netip.ParseAddrPort(s.MappedAddr); err == nil {
			if _, ok := interfaceWithAddr(ifs, ap.Addr().Unmap()); ok {
				n.Mapping = NATNone
			}
		}
		return n
	}
	return nil
}

func proxyFromEnv() ProxyInfo {
	get := func(names ...string) string {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	p := ProxyInfo{HTTPSProxy: get("HTTPS_PROXY", "https_proxy"), NoProxy: get("NO_PROXY", "no_proxy")}
	if u, err := url.Parse(p.HTTPSProxy); err == nil && u.User != nil {
		u.User = nil
		p.HTTPSProxy = u.String()
	} else if err != nil && strings.Contains(p.HTTPSProxy, "@") {
		// Unparseable but may hold credentials: keep only what follows them.
		p.HTTPSProxy = p.HTTPSProxy[strings.LastIndex(p.HTTPSProxy, "@")+1:]
	}
	return p
}

// portableInterfaces reads interfaces through package net: names, flags,
// MTU and addresses; the kind comes from flags and, last, names.
func portableInterfaces() ([]Interface, error) {
	nifs, err := net.Interfaces()
	if err != nil {
		return []Interface{}, err
	}
	out := make([]Interface, 0, len(nifs))
	for _, i := range nifs {
		it := Interface{
			Name: i.Name, Index: i.Index, MTU: i.MTU, Addrs: []string{},
			Up: i.Flags&net.FlagUp != 0, Running: i.Flags&net.FlagRunning != 0,
		}
		addrs, _ := i.Addrs() // an interface that vanished meanwhile has none
		for _, a := range addrs {
			it.Addrs = append(it.Addrs, a.String())
		}
		it.Kind, it.VPN, it.VPNHow = classifyByFlags(i.Name, i.Flags)
		out = append(out, it)
	}
	return out, nil
}

// defaultRoutesByConnect finds the interface each family's default route
// uses by connecting UDP sockets to documentation addresses (RFC 5737,
// RFC 3849): connect sends nothing, so no packet goes there. A more
// specific route covering those ranges would mislead it; the gateway stays
// unknown.
func defaultRoutesByConnect(ifs []Interface) []Route {
	var out []Route
	for _, probe := range []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")} {
		r, err := routeByConnect(probe, ifs)
		if err != nil || r.NoRoute {
			continue
		}
		r.Destination = "default"
		out = append(out, r)
	}
	return out
}

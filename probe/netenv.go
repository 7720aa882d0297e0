package probe

import (
	"context"
	"net"
	"net/url"
	"os"
)

// GatherEnvironment records the client's interfaces, the routes to the
// probed addresses, VPN tunnels and proxy settings. What it cannot learn
// on this OS it lists in Unknown instead of guessing.
func GatherEnvironment(ctx context.Context, checks []Result, cfg *Config) Environment {
	env := Environment{Interfaces: []Interface{}, Routes: []Route{}}
	ifs, err := net.Interfaces()
	if err != nil {
		env.Unknown = append(env.Unknown, "interfaces: "+err.Error())
	}
	for _, i := range ifs {
		it := Interface{Name: i.Name, MTU: i.MTU, Up: i.Flags&net.FlagUp != 0, Kind: IfUnknown, Addrs: []string{}}
		if i.Flags&net.FlagLoopback != 0 {
			it.Kind = IfLoopback
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			it.Addrs = append(it.Addrs, a.String())
		}
		env.Interfaces = append(env.Interfaces, it)
	}
	env.Proxy = proxyFromEnv()
	for _, c := range checks {
		if s := c.Details.STUN; s != nil && s.NAT != nil && env.NAT == nil {
			env.NAT = s.NAT
		}
	}
	return env
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
	}
	return p
}

package probe_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/probe"
)

// natLab is a vnet: a client behind a NAT of the given mapping behaviour,
// and STUN servers (pion/turn) on the WAN: 198.51.100.20:3478,
// 198.51.100.20:3479 and 198.51.100.21:3478. No real packet is sent.
func natLab(t *testing.T, mapping vnet.EndpointDependencyType) (net.PacketConn, []netip.AddrPort) {
	t.Helper()
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "198.51.100.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	lan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "192.168.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory(), StaticIPs: []string{"198.51.100.10"},
		NATType: &vnet.NATType{MappingBehavior: mapping, FilteringBehavior: vnet.EndpointAddrPortDependent}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wan.AddRouter(lan); err != nil {
		t.Fatal(err)
	}
	client, _ := vnet.NewNet(&vnet.NetConfig{})
	if err := lan.AddNet(client); err != nil {
		t.Fatal(err)
	}
	var servers []netip.AddrPort
	for _, ip := range []string{"198.51.100.20", "198.51.100.21"} {
		n, _ := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err := wan.AddNet(n); err != nil {
			t.Fatal(err)
		}
		ports := []int{3478, 3479}
		if ip == "198.51.100.21" {
			ports = ports[:1]
		}
		for _, port := range ports {
			pc, err := n.ListenPacket("udp4", net.JoinHostPort(ip, itoa(port)))
			if err != nil {
				t.Fatal(err)
			}
			srv, err := turn.NewServer(turn.ServerConfig{Realm: "vnet", PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc,
				RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(ip), Address: ip, Net: n}}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			servers = append(servers, netip.MustParseAddrPort(net.JoinHostPort(ip, itoa(port))))
		}
	}
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wan.Stop() })
	conn, err := client.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, servers
}

func itoa(i int) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(i)).String()[len("0.0.0.0:"):]
}

func TestDetectNATMapping(t *testing.T) {
	for _, tc := range []struct {
		mapping vnet.EndpointDependencyType
		want    probe.NATBehavior
	}{
		{vnet.EndpointIndependent, probe.NATEndpointIndependent},
		{vnet.EndpointAddrDependent, probe.NATAddressDependent},
		{vnet.EndpointAddrPortDependent, probe.NATAddressAndPortDependent},
	} {
		t.Run(string(tc.want), func(t *testing.T) {
			conn, srv := natLab(t, tc.mapping)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			// srv: .20:3478 (primary), .20:3479 (same address, other port), .21:3478.
			info := probe.DetectNAT(ctx, conn, srv[0], netip.AddrPort{}, srv[1:])
			if info.Mapping != tc.want {
				t.Fatalf("mapping %q, want %q (mapped %v)", info.Mapping, tc.want, info.Mapped)
			}
			if len(info.Mapped) != 3 || info.RFC5780 {
				t.Errorf("mapped %v rfc5780 %v", info.Mapped, info.RFC5780)
			}
			if a, _ := netip.ParseAddrPort(info.PublicAddr); a.Addr().String() != "198.51.100.10" {
				t.Errorf("public %q", info.PublicAddr)
			}
		})
	}
}

// With only servers on other addresses, address- and port-dependent
// mapping cannot be told from address-dependent: the mapping depends on
// the destination (symmetric), and the rest is named as not determined,
// never guessed. With only another port of the primary's address, an
// unchanged mapping tells endpoint-independent from address-dependent no
// better: port-independent, with the reason.
func TestDetectNATPartialEvidence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mapping vnet.EndpointDependencyType
		extras  func(srv []netip.AddrPort) []netip.AddrPort
		want    probe.NATBehavior
		why     string
	}{
		{"another address only, mapping changed", vnet.EndpointAddrPortDependent, func(s []netip.AddrPort) []netip.AddrPort { return s[2:] }, probe.NATDestinationDependent, "was not tested"},
		{"another port only, address-dependent NAT", vnet.EndpointAddrDependent, func(s []netip.AddrPort) []netip.AddrPort { return s[1:2] }, probe.NATPortIndependent, "another address"},
		{"another port only, endpoint-independent NAT", vnet.EndpointIndependent, func(s []netip.AddrPort) []netip.AddrPort { return s[1:2] }, probe.NATPortIndependent, "another address"},
		{"another port only, port-dependent NAT", vnet.EndpointAddrPortDependent, func(s []netip.AddrPort) []netip.AddrPort { return s[1:2] }, probe.NATAddressAndPortDependent, ""},
		{"one server", vnet.EndpointAddrPortDependent, func([]netip.AddrPort) []netip.AddrPort { return nil }, probe.NATUnknown, "--stun"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, srv := natLab(t, tc.mapping)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			info := probe.DetectNAT(ctx, conn, srv[0], netip.AddrPort{}, tc.extras(srv))
			if info.Mapping != tc.want || (info.Undetermined == "") != (tc.why == "") || !strings.Contains(info.Undetermined, tc.why) {
				t.Fatalf("mapping %q (%q), want %q (%q); mapped %v", info.Mapping, info.Undetermined, tc.want, tc.why, info.Mapped)
			}
			if len(info.Observations) != len(info.Mapped) || info.Observations[0].Destination != srv[0].String() {
				t.Errorf("observations %+v, mapped %v: the primary first, one per destination", info.Observations, info.Mapped)
			}
		})
	}
}

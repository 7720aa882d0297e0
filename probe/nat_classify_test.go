package probe_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/transport/v5/vnet"

	"github.com/ucprobe/ucprobe/probe"
)

func TestClassifyMapping(t *testing.T) {
	local := netip.MustParseAddrPort("192.168.1.10:40000")
	srv, relay := "198.51.100.7:3478", "198.51.100.7:52001"
	second, other := "203.0.113.9:3478", "198.51.100.8:3479"
	pub := "192.0.2.1:7089"
	obs := func(pairs ...string) []probe.NATObservation {
		var out []probe.NATObservation
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, probe.NATObservation{Destination: pairs[i], Mapped: pairs[i+1], Via: probe.NATViaSTUN})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		obs       []probe.NATObservation
		want      probe.NATBehavior
		undecided bool // a reason must be given
	}{
		{"nothing seen", nil, probe.NATUnknown, true},
		{"one destination only", obs(srv, pub), probe.NATUnknown, true},
		{"no NAT: the mapping is the socket", obs(srv, local.String(), relay, local.String()), probe.NATNone, false},
		{"relay port, same mapping: port-independent only", obs(srv, pub, relay, pub), probe.NATPortIndependent, true},
		{"relay port, other mapping: fully random", obs(srv, pub, relay, "192.0.2.1:5041"), probe.NATAddressAndPortDependent, false},
		{"relay port, other public IP too", obs(srv, pub, relay, "192.0.2.2:7089"), probe.NATAddressAndPortDependent, false},
		{"second server same, relay same: endpoint-independent", obs(srv, pub, relay, pub, second, pub), probe.NATEndpointIndependent, false},
		{"second server differs, relay same: address-dependent", obs(srv, pub, relay, pub, second, "192.0.2.1:9000"), probe.NATAddressDependent, false},
		{"second server differs, relay differs", obs(srv, pub, relay, "192.0.2.1:5041", second, "192.0.2.1:9000"), probe.NATAddressAndPortDependent, false},
		{"only another address, differs", obs(srv, pub, other, "192.0.2.1:9000"), probe.NATDestinationDependent, true},
		{"only another address, same", obs(srv, pub, second, pub), probe.NATEndpointIndependent, false},
		{"malformed observations are ignored", obs(srv, pub, "relay?", "x"), probe.NATUnknown, true},
		// RFC 5780 tests I-III: the primary, the other IP with the
		// primary port, the other IP and port. Test III's pair shares an
		// IP with test II, not with test I: every pair counts.
		{"RFC 5780: II same as I", obs(srv, pub, "198.51.100.8:3478", pub), probe.NATEndpointIndependent, false},
		{"RFC 5780: II differs, III same as II", obs(srv, pub, "198.51.100.8:3478", "192.0.2.1:9000", other, "192.0.2.1:9000"), probe.NATAddressDependent, false},
		{"RFC 5780: II differs, III differs", obs(srv, pub, "198.51.100.8:3478", "192.0.2.1:9000", other, "192.0.2.1:9001"), probe.NATAddressAndPortDependent, false},
		{"RFC 5780: II differs, III silent", obs(srv, pub, "198.51.100.8:3478", "192.0.2.1:9000"), probe.NATDestinationDependent, true},
		// Several STUN servers: the same names for the same evidence.
		{"servers: another port of the primary's IP only, same", obs(srv, pub, "198.51.100.7:3479", pub), probe.NATPortIndependent, true},
		{"servers: the same destination twice tells nothing", obs(srv, pub, srv, pub), probe.NATUnknown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := probe.ClassifyMapping(local, tc.obs)
			if got != tc.want || (why != "") != tc.undecided {
				t.Fatalf("got %q (%q), want %q (reason given: %v)", got, why, tc.want, tc.undecided)
			}
		})
	}
}

func TestClassifyFiltering(t *testing.T) {
	server := netip.MustParseAddrPort("198.51.100.7:3478")
	for _, tc := range []struct {
		name string
		test *probe.NATFilteringTest
		want probe.NATBehavior
	}{
		{"not run", nil, ""},
		{"nothing sent (cut off)", &probe.NATFilteringTest{From: "198.51.100.7:52001"}, ""},
		{"arrived from the server's IP, other port", &probe.NATFilteringTest{From: "198.51.100.7:52001", Sent: 1, Received: 1}, probe.NATPortIndependent},
		{"silent from the server's IP, other port", &probe.NATFilteringTest{From: "198.51.100.7:52001", Sent: 3}, probe.NATAddressAndPortDependent},
		{"arrived from another IP", &probe.NATFilteringTest{From: "198.51.100.9:52001", Sent: 1, Received: 1}, probe.NATEndpointIndependent},
		{"silent from another IP: not told apart", &probe.NATFilteringTest{From: "198.51.100.9:52001", Sent: 3}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := probe.ClassifyFiltering(tc.test, server); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// One STUN server without RFC 5780 or extras leaves the mapping unknown
// and says what would tell it (vnet: the NAT in between is symmetric, yet
// one destination cannot show it).
func TestDetectNATOneServerSaysWhy(t *testing.T) {
	for _, m := range []vnet.EndpointDependencyType{vnet.EndpointIndependent, vnet.EndpointAddrPortDependent} {
		conn, srv := natLab(t, m)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		info := probe.DetectNAT(ctx, conn, srv[0], netip.AddrPort{}, nil)
		cancel()
		if info.Mapping != probe.NATUnknown || !strings.Contains(info.Undetermined, "--stun") || !strings.Contains(info.Undetermined, "TURN") {
			t.Fatalf("mapping %q, undetermined %q", info.Mapping, info.Undetermined)
		}
	}
}

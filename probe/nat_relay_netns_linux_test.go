//go:build linux

package probe

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// The relay NAT test against coturn on one address (no RFC 5780), behind
// a real NAT: in a namespace of its own, nft rewrites the client's
// 127.0.0.1 to 127.0.0.9 on the way to coturn (127.0.0.2). Plain SNAT
// keeps the port towards every destination (the relay sees the same
// mapping: port-independent); fully-random SNAT picks a new port per
// destination (address-and-port-dependent: symmetric). A filter that
// drops what the client sends to the relay ports leaves the mapping
// unknown with the reason. Linux conntrack drops the relay's datagram
// to the mapping made towards the server (port-dependent filtering).
func TestMeasureRelayNATCoturnNetns(t *testing.T) {
	for _, tc := range []struct {
		name, snat, filter string
		extra              bool // a second STUN server on 127.0.0.4 (--stun)
		mapping, filtering NATBehavior
		why                string
	}{
		{"plain SNAT", "snat to 127.0.0.9", "", false, NATPortIndependent, NATAddressAndPortDependent, "another address"},
		{"plain SNAT and a second server", "snat to 127.0.0.9", "", true, NATEndpointIndependent, NATAddressAndPortDependent, ""},
		{"fully random SNAT", "snat to 127.0.0.9 fully-random", "", false, NATAddressAndPortDependent, NATAddressAndPortDependent, ""},
		{"fully random SNAT and a second server", "snat to 127.0.0.9 fully-random", "", true, NATAddressAndPortDependent, NATAddressAndPortDependent, ""},
		{"relay ports dropped", "snat to 127.0.0.9", "ip daddr 127.0.0.2 udp dport != COTURN drop", false, NATUnknown, NATAddressAndPortDependent, "delivered nothing"},
		{"relay ports dropped, a second server differs", "snat to 127.0.0.9 fully-random", "ip daddr 127.0.0.2 udp dport != COTURN drop", true, NATDestinationDependent, NATAddressAndPortDependent, "delivered nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := testNetns(t)
			ct := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true, Netns: ns})
			rules := "table ip relaynat {\n chain post {\n  type nat hook postrouting priority 100; policy accept;\n" +
				"  ip saddr 127.0.0.1 ip daddr { 127.0.0.2, 127.0.0.4 } meta l4proto udp " + tc.snat + "\n }\n" +
				" chain in {\n  type filter hook input priority 0; policy accept;\n  " + strings.ReplaceAll(tc.filter, "COTURN", strconv.Itoa(ct.Port)) + "\n }\n}\n"
			probetest.NsNft(t, ns, rules)
			cfg := &Config{TURN: TURNCredentials{Username: ct.User, Password: Secret(ct.Pass)}}
			var n *NATInfo
			inNetns(t, ns, func() {
				if tc.extra {
					stunFarEnd(t, "127.0.0.4", 3478, 3478, nil, nil)
					cfg.ExtraSTUN = []string{"127.0.0.4:3478"}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				n = MeasureRelayNAT(ctx, Spec{ID: "turn-udp", Kind: KindTURN, Host: ct.IP, Port: ct.Port}, cfg)
			})
			if n.Mapping != tc.mapping || n.Filtering != tc.filtering || n.RFC5780 {
				t.Fatalf("mapping %q filtering %q rfc5780 %v, want %q/%q; observations %+v filtering test %+v (%s)",
					n.Mapping, n.Filtering, n.RFC5780, tc.mapping, tc.filtering, n.Observations, n.FilteringTest, n.Undetermined)
			}
			if !strings.Contains(n.Undetermined, tc.why) || (tc.why == "") != (n.Undetermined == "") {
				t.Fatalf("undetermined %q, want %q", n.Undetermined, tc.why)
			}
			if !strings.HasPrefix(n.PublicAddr, "127.0.0.9:") {
				t.Fatalf("public address %q: the SNAT did not apply", n.PublicAddr)
			}
		})
	}
}

package report

import (
	"slices"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

func TestUDPDetailLines(t *testing.T) {
	stunOK := probe.Result{Kind: probe.KindSTUN, Status: probe.StatusPass, Details: probe.Details{STUN: &probe.STUNDetails{
		Server: "198.51.100.7:3478", LocalAddr: "192.168.1.20:40000", Interface: "eth0", MappedAddr: "203.0.113.5:61000", RTTMS: 12.34,
		Software: "Coturn", NAT: &probe.NATInfo{Mapping: probe.NATAddressDependent, Filtering: probe.NATAddressAndPortDependent, RFC5780: true}}}}
	stunRefused := probe.Result{Kind: probe.KindSTUN, Status: probe.StatusFail, Class: probe.ClassRefused, Details: probe.Details{STUN: &probe.STUNDetails{
		Server: "198.51.100.7:3478", LocalAddr: "192.168.1.20:40000", Attempts: 1}}}
	stunSilent := probe.Result{Kind: probe.KindSTUN, Status: probe.StatusFail, Class: probe.ClassTimeout, Details: probe.Details{STUN: &probe.STUNDetails{
		Server: "198.51.100.7:3478", LocalAddr: "192.168.1.20:40000", Attempts: 4}}}
	turnOK := probe.Result{Kind: probe.KindTURN, Status: probe.StatusPass, Details: probe.Details{TURN: &probe.TURNDetails{
		RelayedAddr: "198.51.100.7:50000", MappedAddr: "203.0.113.5:61001", LifetimeS: 600, RelaySent: 5, RelayReceived: 4,
		Steps: map[string]float64{"first_relay": 3, "connect": 1, "allocate": 2}}}}
	turnTCP := probe.Result{Kind: probe.KindTURN, Status: probe.StatusPass, Transport: probe.TransportTCP, Details: probe.Details{TURN: &probe.TURNDetails{
		RelayedAddr: "198.51.100.7:50002", MappedAddr: "203.0.113.5:61002", LifetimeS: 600, RelaySent: 5, RelayReceived: 5,
		RelayPeer: "relay", PeerRelayedAddr: "198.51.100.7:50004", Steps: map[string]float64{"peer_allocate": 2.5, "allocate": 2}}}}
	turn401 := probe.Result{Kind: probe.KindTURN, Status: probe.StatusFail, Class: probe.ClassAuth, Details: probe.Details{TURN: &probe.TURNDetails{
		ErrorCode: 401, ErrorReason: "Unauthorized", Credentials: "long-term", Username: "alice"}}}
	sip := probe.Result{Kind: probe.KindSIP, Status: probe.StatusPass, Details: probe.Details{SIP: &probe.SIPDetails{
		Method: "OPTIONS", StatusCode: 200, Reason: "OK", RTTMS: 4.5, UserAgent: "PBX", LocalAddr: "10.0.0.5:5060", Received: "203.0.113.5", RPort: 4000, Rewritten: true}}}
	for _, tc := range []struct {
		c    probe.Result
		want []string
	}{
		{stunOK, []string{"mapped 203.0.113.5:61000 from 192.168.1.20:40000 (eth0), RTT 12.3 ms, server Coturn",
			"NAT mapping address-dependent, filtering address-and-port-dependent (RFC 5780 tests)"}},
		{stunRefused, []string{"198.51.100.7:3478 answered ICMP port unreachable: the host is there, nothing listens on the port"}},
		{stunSilent, []string{"4 requests to 198.51.100.7:3478 from 192.168.1.20:40000, no answer"}},
		{turnOK, []string{"relay 198.51.100.7:50000, mapped 203.0.113.5:61001, lifetime 600 s, 4/5 datagrams back through the relay",
			"steps (ms): connect 1.0, allocate 2.0, first_relay 3.0"}},
		{turnTCP, []string{"relay 198.51.100.7:50002, mapped 203.0.113.5:61002, lifetime 600 s, 5/5 datagrams back through the relay (echoed relay to relay via a second allocation 198.51.100.7:50004: no client UDP needed)",
			"steps (ms): allocate 2.0, peer_allocate 2.5"}},
		{turn401, []string{`server answered 401 Unauthorized (long-term credentials, user "alice")`}},
		{sip, []string{"OPTIONS answered 200 OK in 4.5 ms (PBX)", "sent from 10.0.0.5:5060, server saw received=203.0.113.5 rport=4000"}},
	} {
		if got := detailLines(tc.c); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s:\n got %q\nwant %q", tc.c.Kind, tc.c.Status, got, tc.want)
		}
	}
}

package probe_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/probe"
)

// deafRelays hands out relays that swallow every datagram from peers: a
// relay that never delivers.
type deafRelays struct {
	turn.RelayAddressGeneratorStatic
}

func (g *deafRelays) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGeneratorStatic.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	return deafConn{pc}, addr, nil
}

type deafConn struct{ net.PacketConn }

func (d deafConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		if _, _, err := d.PacketConn.ReadFrom(b); err != nil {
			return 0, nil, err
		}
	}
}

// Against pion's server on loopback there is no NAT: the relay sees the
// socket itself (mapping none), the filtering datagram arrives. A server
// that refuses the self-permission, or a relay that never delivers, leaves
// the mapping unknown with the reason, never a guess.
func TestMeasureRelayNATPion(t *testing.T) {
	refuseSelf := func(_ net.Addr, peer net.IP) bool { return !peer.IsLoopback() }
	static := loopbackRelays()
	for _, tc := range []struct {
		name      string
		perm      turn.PermissionHandler
		gen       turn.RelayAddressGenerator
		mapping   probe.NATBehavior
		filtering probe.NATBehavior
		why       string
		observed  int
	}{
		{"no NAT", nil, nil, probe.NATNone, probe.NATPortIndependent, "", 2},
		{"self-permission refused", refuseSelf, nil, probe.NATUnknown, "", "refused a permission for this client's own address", 1},
		// Without a NAT the Binding alone settles it (mapping none); the
		// netns test sees this fault behind a NAT.
		{"relay never delivers, no NAT", nil, &deafRelays{static}, probe.NATNone, probe.NATPortIndependent, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := startPionTURNWith(t, "bob", "pion-pass-1", tc.gen, tc.perm).UDPPort
			cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: probe.Secret("pion-pass-1")}}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n := probe.MeasureRelayNAT(ctx, probe.Spec{ID: "turn-udp", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port}, cfg)
			if n.Mapping != tc.mapping || n.Filtering != tc.filtering || n.Method != probe.NATMethodTURNRelay || len(n.Observations) != tc.observed {
				t.Fatalf("mapping %q filtering %q method %q observations %+v (%s)", n.Mapping, n.Filtering, n.Method, n.Observations, n.Undetermined)
			}
			if tc.why != "" && !strings.Contains(n.Undetermined, tc.why) {
				t.Fatalf("undetermined %q, want it to say %q", n.Undetermined, tc.why)
			}
			if tc.why == "" && tc.mapping != probe.NATUnknown && n.Undetermined != "" {
				t.Fatalf("determined, yet undetermined says %q", n.Undetermined)
			}
		})
	}
}

// The TURN check carries the relay's NAT view; without credentials there
// is none (nothing could be allocated).
func TestTURNCheckCarriesRelayNAT(t *testing.T) {
	port := startPionTURNWith(t, "bob", "pion-pass-1", nil, nil).UDPPort
	spec := probe.Spec{ID: "turn-udp", Kind: probe.KindTURN, Host: "127.0.0.1", Port: port, Transport: probe.TransportUDP}
	res := runCheck(t, probe.TURN, spec, &probe.Config{TURN: probe.TURNCredentials{Username: "bob", Password: probe.Secret("pion-pass-1")}}, 3*time.Second)
	if res.Status != probe.StatusPass || res.Details.TURN.NAT == nil || res.Details.TURN.NAT.Mapping != probe.NATNone {
		t.Fatalf("status %s, nat %+v (%s)", res.Status, res.Details.TURN.NAT, res.Error)
	}
	res = runCheck(t, probe.TURN, spec, &probe.Config{}, 3*time.Second)
	if res.Details.TURN.NAT != nil {
		t.Fatalf("no credentials, yet nat %+v", res.Details.TURN.NAT)
	}
}

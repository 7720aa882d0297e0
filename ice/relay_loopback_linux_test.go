//go:build linux

package ice

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// Relay loopback against coturn in a namespace where nft drops a fifth of
// what reaches the relay ports: the stream's loss shows it, with no far
// end at all (what helpdesk mode needs to find packet-loss).
func TestRelayLoopbackCoturnLossNetns(t *testing.T) {
	ns := probetest.NewNetns(t)
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true, Netns: ns})
	probetest.NsNft(t, ns, "table inet loss {\n chain in {\n  type filter hook input priority 0; policy accept;\n"+
		"  ip daddr 127.0.0.2 udp dport != "+strconv.Itoa(ct.Port)+" numgen random mod 100 < 20 drop\n }\n}\n")
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: ct.User, Password: probe.Secret(ct.Pass)}, Media: 2 * time.Second}
	spec := probe.Spec{ID: "media-relay", Kind: probe.KindICE, Host: ct.IP, Port: ct.Port, Mode: string(ModeRelayLoopback)}
	var res probe.Result
	probetest.InNetns(t, ns, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		defer cancel()
		res = loopbackChecker().Check(ctx, spec, cfg)
	})
	m := res.Details.ICE.Media
	if res.Status != probe.StatusPass || m == nil {
		t.Fatalf("status %s: %s", res.Status, res.Error)
	}
	// 100 packets, each dropped with p = 0.2: far outside 5-45 % is a bug.
	if m.Sent != 100 || m.LossPct < 5 || m.LossPct > 45 || m.Path != MediaPathRelayLoopback {
		t.Fatalf("media %+v", m)
	}
}

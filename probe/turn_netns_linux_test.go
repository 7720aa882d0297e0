//go:build linux

package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// TURN where the client's UDP is dropped (the usual reason for TURN over
// TCP/443): coturn runs in a namespace of its own, nft drops every UDP
// datagram from the client's address 127.0.0.1 on the way in, while the
// relays on 127.0.0.2 still talk UDP to each other inside the server.
// Over UDP the check times out; over TCP and TLS it must pass, echoing
// relay to relay through a second allocation (a UDP socket peer would be
// dropped like the rest).
func TestTURNClientUDPDroppedNetns(t *testing.T) {
	ns := testNetns(t)
	probetest.NeedBinary(t, "nft", "nftables")
	ct := probetest.StartCoturn(t, probetest.CoturnOptions{Single: true, TLS: true, Netns: ns})
	nft := "table inet clientudp {\n chain in {\n  type filter hook input priority 0; policy accept;\n  ip saddr 127.0.0.1 meta l4proto udp drop\n }\n}\n"
	probetest.NsNft(t, ns, nft)
	// StartCoturn waits for the TCP listener only; wait for TLS too.
	tlsUp := false
	inNetns(t, ns, func() {
		tlsAddr := net.JoinHostPort(ct.IP, strconv.Itoa(ct.TLSPort))
		tlsUp = probetest.Eventually(5*time.Second, func() bool {
			c, err := net.DialTimeout("tcp", tlsAddr, 200*time.Millisecond)
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		})
	})
	if !tlsUp {
		t.Fatalf("coturn's TLS listener %s:%d did not come up in 5 s", ct.IP, ct.TLSPort)
	}

	cfg := &Config{RootCAs: ct.CAPool, TURN: TURNCredentials{Username: ct.User, Password: Secret(ct.Pass)}}
	run := func(tr Transport, port int) Result {
		var res Result
		// Every socket of the check is made on this (namespaced) thread.
		inNetns(t, ns, func() {
			// UDP is expected to time out (2 s costs the test little);
			// TCP and TLS need two allocations and the echo to pass.
			bound := 5 * time.Second
			if tr == TransportUDP {
				bound = 2 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			res = TURN(ctx, Spec{ID: "turn-" + string(tr), Kind: KindTURN, Host: ct.IP, Port: port, Transport: tr}, cfg)
		})
		assertNoSecretInternal(t, res, ct.Pass)
		return res
	}

	if res := run(TransportUDP, ct.Port); res.Status != StatusFail || res.Class != ClassTimeout || res.Details.TURN.Answers != 0 {
		t.Errorf("turn-udp: status %s class %q (%s), %d answers; want a timeout", res.Status, res.Class, res.Error, res.Details.TURN.Answers)
	}
	for _, tc := range []struct {
		tr   Transport
		port int
	}{{TransportTCP, ct.Port}, {TransportTLS, ct.TLSPort}} {
		res := run(tc.tr, tc.port)
		d := res.Details.TURN
		if res.Status != StatusPass {
			t.Errorf("turn-%s: status %s class %q (%s); details %+v", tc.tr, res.Status, res.Class, res.Error, d)
			continue
		}
		if d.RelayPeer != TURNPeerRelay || d.RelayPeerError != "" || !strings.HasPrefix(d.PeerRelayedAddr, ct.IP+":") {
			t.Errorf("turn-%s: relay peer %q at %q (error %q), want a second allocation", tc.tr, d.RelayPeer, d.PeerRelayedAddr, d.RelayPeerError)
		}
		if d.RelaySent != TURNRelayCount || d.RelayReceived != TURNRelayCount || d.Stage != TURNStageDone {
			t.Errorf("turn-%s: relay %d/%d stage %s, want %d each", tc.tr, d.RelayReceived, d.RelaySent, d.Stage, TURNRelayCount)
		}
		if _, ok := d.Steps["first_relay"]; !ok {
			t.Errorf("turn-%s: no first_relay in %v", tc.tr, d.Steps)
		}
	}
}

// assertNoSecretInternal: the secret is in neither the JSON nor the
// printed forms of the result.
func assertNoSecretInternal(t *testing.T, res Result, secret string) {
	t.Helper()
	b, _ := json.Marshal(res)
	if text := string(b) + fmt.Sprintf("%v %+v %#v", res, res, res); strings.Contains(text, secret) {
		t.Errorf("secret leaked into the result: %s", b)
	}
}

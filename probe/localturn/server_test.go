package localturn_test

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/localturn"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// The server relays over UDP, TCP and TLS (its own certificate, trusted
// through Roots), refuses a wrong password, and Close leaves nothing
// running or bound.
func TestLocalTURN(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, err := localturn.Start(localturn.Config{IP: "127.0.0.1", Realm: "test", User: "u", Password: "p4ss"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &probe.Config{TURN: probe.TURNCredentials{Username: "u", Password: "p4ss"}, RootCAs: srv.Roots}
	for _, c := range []struct {
		tr   probe.Transport
		port int
	}{{probe.TransportUDP, srv.Port}, {probe.TransportTCP, srv.Port}, {probe.TransportTLS, srv.TLSPort}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res := probe.TURN(ctx, probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: c.port, Transport: c.tr, Timeout: 5 * time.Second}, cfg)
		cancel()
		if res.Status != probe.StatusPass || res.Details.TURN == nil || res.Details.TURN.RelayReceived == 0 {
			t.Errorf("%s: %s %s %s", c.tr, res.Status, res.Class, res.Error)
		}
	}
	bad := *cfg
	bad.TURN.Password = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	res := probe.TURN(ctx, probe.Spec{ID: "turn", Kind: probe.KindTURN, Host: "127.0.0.1", Port: srv.Port, Transport: probe.TransportUDP, Timeout: 5 * time.Second}, &bad)
	cancel()
	if res.Class != probe.ClassAuth {
		t.Errorf("wrong password: %s %s", res.Status, res.Class)
	}
	srv.Close()
	for _, network := range []string{"udp4", "tcp4"} {
		addr := net.JoinHostPort("127.0.0.1", itoa(srv.Port))
		var err error
		if network == "udp4" {
			var c net.PacketConn
			if c, err = net.ListenPacket(network, addr); err == nil {
				c.Close()
			}
		} else {
			var l net.Listener
			if l, err = net.Listen(network, addr); err == nil {
				l.Close()
			}
		}
		if err != nil {
			t.Errorf("%s %s still bound after Close: %v", network, addr, err)
		}
	}
	if !probetest.Eventually(5*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
		t.Errorf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

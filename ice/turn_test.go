package ice

import (
	"net"
	"strconv"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/turn/v5"
)

const (
	testUser  = "ucuser"
	testPass  = "s3cret-pass-ice"
	testRealm = "ucprobe.test"
)

// startTURN runs pion/turn's server on ip:0 (UDP and TCP on the same
// port), relaying on ip, with long-term credentials testUser/testPass.
// It is stopped in t.Cleanup.
func startTURN(t testing.TB, ip string) int {
	t.Helper()
	return startTURNAuth(t, ip, longTermAuth)
}

// longTermAuth accepts testUser/testPass.
func longTermAuth(ra *turn.RequestAttributes) (string, []byte, bool) {
	if ra.Username != testUser {
		return "", nil, false
	}
	return ra.Username, turn.GenerateAuthKey(testUser, testRealm, testPass), true
}

// startTURNAuth is startTURN with the server's authentication: the long-term
// one, a TURN REST one (turn.LongTermTURNRESTAuthHandler), or one that also
// records who authenticated.
func startTURNAuth(t testing.TB, ip string, authz turn.AuthHandler) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	ln, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	gen := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(ip), Address: ip}
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:             testRealm,
		AuthHandler:       authz,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: gen()}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: ln, RelayAddressGenerator: gen()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return port
}

// startVNetTURN runs pion/turn's server inside a vnet at ip:3478.
func startVNetTURN(t testing.TB, n transport.Net, ip string) {
	t.Helper()
	pc, err := n.ListenPacket("udp4", net.JoinHostPort(ip, "3478"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: testRealm, LoggerFactory: logging.NewDefaultLoggerFactory(),
		AuthHandler: longTermAuth,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
			RelayAddress: net.ParseIP(ip), Address: "0.0.0.0", Net: n}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
}

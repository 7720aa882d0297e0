package probetest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"testing"
)

// LoopbackIP is an IPv4 loopback address of the calling test's own: on
// Linux, where all of 127.0.0.0/8 is local, a random one outside
// 127.0.0.0/16 (which resolvers and other tests use). No other test
// process binds ports on it or sends to it, so a fixed port (a profile's
// 2230) or a block of ports found free there stays free until the test
// binds it, and whatever arrives there is the test's own. Elsewhere only
// 127.0.0.1 is configured, and that is what it returns. An address that
// cannot be bound is unavailable (a failure under UCPROBE_CI=1).
func LoopbackIP(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		return "127.0.0.1"
	}
	ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
	c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		Unavailable(t, "loopback address %s: %v", ip, err)
		return ""
	}
	c.Close()
	return ip
}

//go:build !linux

package probe

import (
	"net"
	"net/netip"
	"time"
)

func enableRxStamps(*net.UDPConn) bool { return false }

func readStamped(c *net.UDPConn, b, _ []byte) (int, netip.AddrPort, time.Time, error) {
	n, from, err := c.ReadFromUDPAddrPort(b)
	return n, from, time.Now(), err
}

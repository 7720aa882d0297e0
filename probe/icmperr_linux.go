//go:build linux

package probe

import "net"

// TODO(netenv): IP_RECVERR + MSG_ERRQUEUE parsing.
func enableICMPErrors(*net.UDPConn) bool { return false }

func readICMPErrors(*net.UDPConn) []ICMPError { return nil }

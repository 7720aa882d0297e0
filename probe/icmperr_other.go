//go:build !linux

package probe

import "net"

func enableICMPErrors(*net.UDPConn) bool { return false }

func readICMPErrors(*net.UDPConn) []ICMPError { return nil }

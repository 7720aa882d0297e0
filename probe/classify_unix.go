//go:build !windows

package probe

import (
	"errors"
	"syscall"
)

func classifyErrno(err error) ErrorClass {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ClassNone
	}
	switch errno {
	case syscall.ECONNREFUSED:
		return ClassRefused
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EHOSTDOWN, syscall.EADDRNOTAVAIL:
		return ClassUnreachable
	// A local firewall rejecting our own packet (an output-hook drop or
	// reject) comes back as EPERM/EACCES to the sender.
	case syscall.EPERM, syscall.EACCES:
		return ClassProhibited
	case syscall.ETIMEDOUT:
		return ClassTimeout
	}
	return ClassNone
}

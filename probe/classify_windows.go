//go:build windows

package probe

import (
	"errors"
	"syscall"
)

// Winsock error numbers (winerror.h); syscall does not name them all.
const (
	wsaEACCES       syscall.Errno = 10013
	wsaENETUNREACH  syscall.Errno = 10051
	wsaETIMEDOUT    syscall.Errno = 10060
	wsaECONNREFUSED syscall.Errno = 10061
	wsaEHOSTDOWN    syscall.Errno = 10064
	wsaEHOSTUNREACH syscall.Errno = 10065
)

func classifyErrno(err error) ErrorClass {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ClassNone
	}
	switch errno {
	case wsaECONNREFUSED:
		return ClassRefused
	case wsaENETUNREACH, wsaEHOSTUNREACH, wsaEHOSTDOWN:
		return ClassUnreachable
	case wsaEACCES:
		return ClassProhibited
	case wsaETIMEDOUT:
		return ClassTimeout
	}
	return ClassNone
}

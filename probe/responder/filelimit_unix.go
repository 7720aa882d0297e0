//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package responder

import "syscall"

// openFileLimit is the soft RLIMIT_NOFILE. Go raises the soft limit to
// the hard one at start on these systems, so this is what the process
// can get without the operator's help.
func openFileLimit() (uint64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, false
	}
	return uint64(r.Cur), true //nolint:unconvert // int64 on some BSDs
}

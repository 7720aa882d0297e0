//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package responder

// openFileLimit: no per-process open-file limit to check here (Windows
// has none for sockets that matters at 65,535 ports); binding reports
// any shortage port by port.
func openFileLimit() (uint64, bool) { return 0, false }

package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/probe"
)

// checkFailedRemedy says what to try for a failed check that no rule
// explains, from what the failure was: the catalog's "see the check's
// error" helps nobody on the phone.
func checkFailedRemedy(c probe.Result) string {
	what := fmt.Sprintf("the %s check %s (%s)", c.Kind, c.ID, c.Target)
	switch c.Class {
	case probe.ClassRefused:
		return fmt.Sprintf("The host answered, but nothing listens for %s: start the service on the server, or correct the port in the profile.", what)
	case probe.ClassTimeout:
		return fmt.Sprintf("Nothing answered %s: a firewall on the way drops it, or the server is down. Allow the port between this client and the server.", what)
	case probe.ClassUnreachable:
		return fmt.Sprintf("There is no path for %s: check routing and the VPN.", what)
	case probe.ClassProhibited:
		return fmt.Sprintf("A firewall actively rejects %s (ICMP administratively prohibited, or this client's own firewall): allow the port.", what)
	case probe.ClassProtocol:
		return fmt.Sprintf("Something answered %s, but not as that kind of server would: check that the service on the port is the one the profile expects.", what)
	case probe.ClassTLS:
		return fmt.Sprintf("The TLS handshake of %s failed: check the server's TLS setup and anything that intercepts TLS.", what)
	case probe.ClassAuth:
		return fmt.Sprintf("The server refused the credentials of %s: check them.", what)
	case probe.ClassDNS:
		return fmt.Sprintf("The name of %s does not resolve: check the name and this client's DNS server.", what)
	}
	return fmt.Sprintf("Rerun with --debug to see what %s did, and check its error above.", what)
}

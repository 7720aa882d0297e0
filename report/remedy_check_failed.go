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
	advice, ok := checkFailedAdvice[c.Class]
	if !ok {
		advice = "Rerun with --debug to see what %s did, and check its error above."
	}
	return fmt.Sprintf(advice, what)
}

// checkFailedAdvice is what to try per error class; %s is the check.
var checkFailedAdvice = map[probe.ErrorClass]string{
	probe.ClassRefused:     "The host answered, but nothing listens for %s: start the service on the server, or correct the port in the profile.",
	probe.ClassTimeout:     "Nothing answered %s: a firewall on the way drops it, or the server is down. Allow the port between this client and the server.",
	probe.ClassUnreachable: "There is no path for %s: check routing and the VPN.",
	probe.ClassProhibited:  "A firewall actively rejects %s (ICMP administratively prohibited, or this client's own firewall): allow the port.",
	probe.ClassProtocol:    "Something answered %s, but not as that kind of server would: check that the service on the port is the one the profile expects.",
	probe.ClassTLS:         "The TLS handshake of %s failed: check the server's TLS setup and anything that intercepts TLS.",
	probe.ClassAuth:        "The server refused the credentials of %s: check them.",
	probe.ClassDNS:         "The name of %s does not resolve: check the name and this client's DNS server.",
}

package probe

import (
	"fmt"
	"net/netip"
)

// NATMethod says how a NAT's mapping was tested.
type NATMethod string

// NAT test methods.
const (
	NATMethodRFC5780   NATMethod = "rfc5780"
	NATMethodServers   NATMethod = "servers"
	NATMethodTURNRelay NATMethod = "turn-relay"
)

// NATVia says how one mapping was observed.
type NATVia string

// Where a mapping observation came from.
const (
	// NATViaSTUN: the XOR-MAPPED-ADDRESS of a Binding to the destination.
	NATViaSTUN NATVia = "stun"
	// NATViaRelay: the XOR-PEER-ADDRESS of the Data indication a TURN
	// relay made of a datagram this socket sent to its own relayed address.
	NATViaRelay NATVia = "turn-relay"
	// NATViaOther: a Binding to the server's RFC 5780 OTHER-ADDRESS.
	NATViaOther NATVia = "rfc5780-other"
)

// NATObservation is the public address one socket had towards one
// destination.
type NATObservation struct {
	Destination string `json:"destination"`
	Mapped      string `json:"mapped"`
	Via         NATVia `json:"via"`
}

// NATFilteringTest is the relay's datagram from its relayed address (the
// server's IP, another port) to the mapping this socket made towards the
// server: it arrives through a NAT whose filter does not look at the port.
type NATFilteringTest struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
}

// ClassifyMapping is the one judgement of a NAT's mapping behaviour (RFC
// 4787 section 4.1), whichever test made the observations: RFC 5780 tests
// II and III, several STUN servers, or the TURN relay's view (the first
// observation is the mapping towards the primary server). local is the
// socket's own address: a first mapping equal to it means no NAT.
//
// Every pair of observations is compared: two destinations on one IP
// that got different mappings prove address-and-port dependence; on one
// IP the same mapping rules it out, and only a second IP tells address
// dependence from endpoint independence. What the destinations cannot
// separate gets the partial name (NATPortIndependent,
// NATDestinationDependent) or NATUnknown, with what was not determined.
func ClassifyMapping(local netip.AddrPort, obs []NATObservation) (NATBehavior, string) {
	all := parseObservations(obs)
	if len(all) == 0 {
		return NATUnknown, "no mapping was observed"
	}
	if local.IsValid() && all[0].mapped == unmapAP(local) {
		return NATNone, ""
	}
	var portTested, portChanged, addrTested, addrChanged bool
	for i, a := range all {
		for _, b := range all[i+1:] {
			changed := a.mapped != b.mapped
			switch {
			case a.dst.Addr() != b.dst.Addr():
				addrTested, addrChanged = true, addrChanged || changed
			case a.dst.Port() != b.dst.Port():
				portTested, portChanged = true, portChanged || changed
			}
		}
	}
	switch {
	case portChanged:
		return NATAddressAndPortDependent, ""
	case addrChanged && portTested:
		return NATAddressDependent, ""
	case addrChanged:
		return NATDestinationDependent, "another address got another mapping; whether another port of one address does too was not tested (address- or address-and-port-dependent: symmetric either way)"
	case addrTested:
		return NATEndpointIndependent, ""
	case portTested:
		return NATPortIndependent, "the same mapping towards another port of one address; another address (a second STUN server, --stun HOST, or RFC 5780) would tell endpoint-independent from address-dependent"
	case len(all) == 1:
		return NATUnknown, natOneDestination
	}
	return NATUnknown, fmt.Sprintf("the %d destinations were all %s", len(all), all[0].dst)
}

// natOneDestination is why one destination's mapping tells nothing about
// the NAT's behaviour, and what would.
const natOneDestination = "only one destination answered: a second STUN server (--stun HOST), the server's RFC 5780 OTHER-ADDRESS or the TURN relay test (TURN credentials) tells whether the mapping depends on the destination"

type natSeen struct{ dst, mapped netip.AddrPort }

// parseObservations keeps the well-formed observations, in order.
func parseObservations(obs []NATObservation) []natSeen {
	var all []natSeen
	for _, o := range obs {
		d, err1 := netip.ParseAddrPort(o.Destination)
		m, err2 := netip.ParseAddrPort(o.Mapped)
		if err1 == nil && err2 == nil {
			all = append(all, natSeen{unmapAP(d), unmapAP(m)})
		}
	}
	return all
}

// ClassifyFiltering names the filtering behaviour the relay test proves:
// a datagram from the server's address but another port got through (not
// port-dependent), or none of several did (address-and-port-dependent).
func ClassifyFiltering(t *NATFilteringTest, server netip.AddrPort) NATBehavior {
	if t == nil {
		return ""
	}
	from, err := netip.ParseAddrPort(t.From)
	switch {
	case t.Sent == 0 || err != nil:
		return ""
	case t.Received > 0 && unmapAP(from).Addr() == server.Addr():
		return NATPortIndependent
	case t.Received > 0:
		return NATEndpointIndependent
	case unmapAP(from).Addr() == server.Addr():
		return NATAddressAndPortDependent
	}
	// Silence from another address: address- or port-dependent.
	return ""
}

func unmapAP(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

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

// ClassifyMapping names the mapping behaviour the observations prove (the
// first is the reference: the mapping towards the primary server). local
// is the socket's own address: a first mapping equal to it means no NAT.
// It never guesses: what the observations cannot separate gets the
// weaker name (port-independent, destination-dependent) or unknown, with
// the reason.
func ClassifyMapping(local netip.AddrPort, obs []NATObservation) (NATBehavior, string) {
	type seen struct{ dst, mapped netip.AddrPort }
	var all []seen
	for _, o := range obs {
		d, err1 := netip.ParseAddrPort(o.Destination)
		m, err2 := netip.ParseAddrPort(o.Mapped)
		if err1 != nil || err2 != nil {
			continue
		}
		all = append(all, seen{unmapAP(d), unmapAP(m)})
	}
	if len(all) == 0 {
		return NATUnknown, "no mapping was observed"
	}
	ref := all[0]
	if local.IsValid() && ref.mapped == unmapAP(local) {
		return NATNone, ""
	}
	if len(all) < 2 {
		return NATUnknown, "only one destination answered; a second (the TURN relay, another STUN server or RFC 5780) is needed"
	}
	// For each kind of second destination: was it tested, did the mapping change?
	var portTested, portChanged, addrTested, addrChanged bool
	for _, s := range all[1:] {
		switch {
		case s.dst.Addr() == ref.dst.Addr() && s.dst.Port() != ref.dst.Port():
			portTested = true
			portChanged = portChanged || s.mapped != ref.mapped
		case s.dst.Addr() != ref.dst.Addr():
			addrTested = true
			addrChanged = addrChanged || s.mapped != ref.mapped
		}
	}
	switch {
	case portChanged:
		// Another port of the same address got another mapping.
		return NATAddressAndPortDependent, ""
	case addrChanged && portTested:
		return NATAddressDependent, ""
	case addrChanged:
		return NATDestinationDependent, "another address got another mapping; another port of the same address was not tested"
	case addrTested:
		return NATEndpointIndependent, ""
	case portTested:
		return NATPortIndependent, "the same mapping towards another port of the server's address; another address (a second STUN server, --stun, or RFC 5780) would tell address dependence"
	}
	return NATUnknown, fmt.Sprintf("the %d destinations were all %s", len(all), ref.dst)
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

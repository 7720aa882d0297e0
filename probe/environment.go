package probe

// Environment is what the client's own network looks like during a run:
// the facts the diagnosis needs to say where a packet dies (a VPN tunnel,
// a missing route, a NAT). It is the report's "environment" object.
type Environment struct {
	Interfaces []Interface `json:"interfaces"`
	// Routes are the routes actually used to reach each probed address.
	Routes        []Route   `json:"routes"`
	DefaultRoutes []Route   `json:"default_routes,omitempty"`
	VPN           VPNInfo   `json:"vpn"`
	NAT           *NATInfo  `json:"nat,omitempty"`
	Proxy         ProxyInfo `json:"proxy"`
	// Names are the addresses each probed name resolved to, with their
	// scope, so "resolves to a private address" is visible.
	Names []NameInfo `json:"names,omitempty"`
	// IPv4 and IPv6 say whether this client has a usable (non-loopback,
	// non-link-local) address of each family.
	IPv4 bool `json:"ipv4"`
	IPv6 bool `json:"ipv6"`
	// Unknown lists what could not be determined, in words, instead of a guess.
	Unknown []string `json:"unknown,omitempty"`
}

// InterfaceKind classifies a network interface from what the OS says.
type InterfaceKind string

// Interface kinds.
const (
	IfEthernet InterfaceKind = "ethernet"
	IfWireless InterfaceKind = "wireless"
	IfTunnel   InterfaceKind = "tunnel" // a VPN or tunnel device (tun/tap, wireguard, ppp, ipsec, utun)
	IfLoopback InterfaceKind = "loopback"
	IfVirtual  InterfaceKind = "virtual" // bridges, veth, docker, hypervisor adapters
	IfUnknown  InterfaceKind = "unknown"
)

// Interface is one local network interface.
type Interface struct {
	Name  string        `json:"name"`
	Index int           `json:"index,omitempty"`
	Kind  InterfaceKind `json:"kind"`
	Addrs []string      `json:"addrs"` // CIDR notation
	MTU   int           `json:"mtu"`
	// Up is the administrative state; Running is the operational one
	// (carrier: a tun whose VPN client has exited is up but not running).
	Up      bool `json:"up"`
	Running bool `json:"running"`
	// OSType is what the OS calls the device ("tun", "wireguard",
	// "veth", "ARPHRD 512", "IfType 131", ...), for the reader.
	OSType string `json:"os_type,omitempty"`
	// VPN is true when the interface is a VPN tunnel; VPNHow says how that
	// was learned ("linux type tun", "windows adapter description", "name").
	VPN    bool   `json:"vpn"`
	VPNHow string `json:"vpn_how,omitempty"`
}

// Route is the route to one target address as the OS would use it.
type Route struct {
	Destination string `json:"destination"` // the probed address, or "default"
	Interface   string `json:"interface"`
	Source      string `json:"source,omitempty"`
	Gateway     string `json:"gateway,omitempty"`
	// Family is "ipv4" or "ipv6" (set on default routes).
	Family string `json:"family,omitempty"`
	// Table is the Linux routing table the route came from (default routes).
	Table  int  `json:"table,omitempty"`
	ViaVPN bool `json:"via_vpn"`
	// MTU is the route's interface MTU: a small tunnel MTU breaks media and TLS.
	MTU int `json:"mtu,omitempty"`
	// NoRoute is true when the OS has no route to the destination.
	NoRoute bool   `json:"no_route,omitempty"`
	How     string `json:"how,omitempty"` // "netlink", "udp-connect"
}

// Address scopes (AddrScope).
const (
	ScopePublic    = "public"
	ScopePrivate   = "private" // RFC 1918, RFC 4193 (fc00::/7)
	ScopeCGNAT     = "cgnat"   // 100.64.0.0/10 (RFC 6598)
	ScopeLoopback  = "loopback"
	ScopeLinkLocal = "link-local"
	ScopeOther     = "other" // unspecified, multicast, invalid
)

// NameInfo is one probed name and its addresses.
type NameInfo struct {
	Name  string     `json:"name"`
	Addrs []AddrInfo `json:"addrs"`
	// Mixed is true when the name has both private and public addresses:
	// which one a client should use depends on where it is (split DNS).
	Mixed bool `json:"mixed,omitempty"`
}

// AddrInfo is one address with its scope.
type AddrInfo struct {
	Addr  string `json:"addr"`
	Scope string `json:"scope"`
}

// VPNInfo summarises the tunnels that are up.
type VPNInfo struct {
	Up         bool     `json:"up"`
	Interfaces []string `json:"interfaces,omitempty"`
}

// NATBehavior is a NAT's mapping or filtering behaviour (RFC 4787 / RFC
// 5780 terms), as far as the tests could tell it. One vocabulary for every
// method: ClassifyMapping names the mapping, whichever test observed it.
type NATBehavior string

// NAT mapping and filtering behaviours. The first three are RFC 4787's;
// the two partial ones name what was determined when the destinations
// could not tell the rest (NATInfo.Undetermined says what).
const (
	NATEndpointIndependent NATBehavior = "endpoint-independent"
	// NATAddressDependent needs a second IP that got another mapping and
	// two ports of one IP that got the same.
	NATAddressDependent NATBehavior = "address-dependent"
	// NATAddressAndPortDependent: another port of the same IP got
	// another mapping.
	NATAddressAndPortDependent NATBehavior = "address-and-port-dependent"
	// NATDestinationDependent: the mapping changed towards another
	// address; whether the port alone changes it too was not tested
	// (address- or address-and-port-dependent: symmetric either way).
	NATDestinationDependent NATBehavior = "destination-dependent"
	// NATPortIndependent: the same mapping (or filter verdict) towards
	// another port of the same address; another address was not tested,
	// so endpoint-independent and address-dependent look alike.
	NATPortIndependent NATBehavior = "port-independent"
	NATNone            NATBehavior = "none" // the mapped address is a local address
	NATUnknown         NATBehavior = "unknown"
)

// Symmetric reports whether the behaviour makes the mapping depend on the
// destination (RFC 3489's "symmetric NAT"): direct peer-to-peer media
// fails, a relay is needed.
func (b NATBehavior) Symmetric() bool {
	return b == NATAddressDependent || b == NATAddressAndPortDependent || b == NATDestinationDependent
}

// NATInfo is the NAT behaviour seen through STUN.
type NATInfo struct {
	Mapping   NATBehavior `json:"mapping"`
	Filtering NATBehavior `json:"filtering,omitempty"`
	// PublicAddr is the server-reflexive address as STUN saw it.
	PublicAddr string `json:"public_addr,omitempty"`
	// Mapped holds the mapped address per STUN server tested from one socket.
	Mapped  map[string]string `json:"mapped,omitempty"`
	RFC5780 bool              `json:"rfc5780"`
	// Checks are the ids of the checks this was derived from.
	Checks []string `json:"checks,omitempty"`
	// Method is how the mapping was tested: "rfc5780", "servers" (several
	// STUN servers) or "turn-relay" (the TURN relay's view of the client
	// towards its own relayed address, see nat_relay.go).
	Method NATMethod `json:"method,omitempty"`
	// Observations are the mappings seen from one socket, per destination.
	Observations []NATObservation `json:"observations,omitempty"`
	// FilteringTest is the relay's datagram towards the mapping it did not
	// create (turn-relay method only).
	FilteringTest *NATFilteringTest `json:"filtering_test,omitempty"`
	// Undetermined says why the mapping stayed unknown.
	Undetermined string `json:"undetermined,omitempty"`
}

// ProxyInfo is the proxy configuration from the environment.
type ProxyInfo struct {
	HTTPSProxy string `json:"https_proxy,omitempty"` // credentials stripped
	NoProxy    string `json:"no_proxy,omitempty"`
}

// Package cause names what the diagnosis can find: the ids (a contract),
// and for each what it means, how a helpdesk says it to a caller, and the
// default remedy when a profile does not quote its vendor. The rules that
// find causes live in report; profiles check their remedy keys here at
// load, so a misspelt key is an error with file:line, not a remedy that is
// never shown. docs/causes.md is generated from this catalog.
package cause

import "sort"

// ID is a finding's cause id.
type ID string

// Causes from DESIGN.md: a contract, never renamed.
const (
	DNSFailure          ID = "dns-failure"
	TCPBlocked          ID = "tcp-blocked"
	PortClosed          ID = "port-closed"
	NoRoute             ID = "no-route"
	UDPBlocked          ID = "udp-blocked"
	UDPPortRangeBlocked ID = "udp-port-range-blocked"
	VPNNoUDP            ID = "vpn-no-udp"
	VPNRequired         ID = "vpn-required"
	MultiHomedServer    ID = "multi-homed-server"
	SymmetricNAT        ID = "symmetric-nat"
	TURNAuthFailed      ID = "turn-auth-failed"
	TURNUnreachable     ID = "turn-unreachable"
	RelayOnly           ID = "relay-only"
	ICEFailed           ID = "ice-failed"
	TLSUntrusted        ID = "tls-untrusted"
	WebSocketBlocked    ID = "websocket-blocked"
	HighLatency         ID = "high-latency"
	HighJitter          ID = "high-jitter"
	PacketLoss          ID = "packet-loss"
)

// Causes the diagnosis added since.
const (
	CheckFailed       ID = "check-failed"
	CutShort          ID = "cut-short"
	HostUnreachable   ID = "host-unreachable"
	ICESignalling     ID = "ice-signalling-failed"
	SIPRewrite        ID = "sip-rewrite"
	SmallMTU          ID = "small-mtu"
	TLSExpiring       ID = "tls-expiring"
	TLSFailed         ID = "tls-failed"
	TURNRelayFailed   ID = "turn-relay-failed"
	TURNUntested      ID = "turn-untested"
	UDPServiceBlocked ID = "udp-service-blocked"
	Untested          ID = "untested"
)

// Info is what the report says about a cause.
type Info struct {
	// Meaning is the cause in one technical line.
	Meaning string
	// Plain says the root cause in sentences a helpdesk can read out to a
	// caller: no jargon beyond "VPN" and "firewall" ("" for causes that
	// never head a report on their own).
	Plain string
	// Remedy is the default of what to do.
	Remedy string
}

// Of is the catalog's entry for id.
func Of(id ID) (Info, bool) {
	in, ok := catalog[id]
	return in, ok
}

// Known reports whether s is a cause id.
func Known(s string) bool {
	_, ok := catalog[ID(s)]
	return ok
}

// IDs are every cause, sorted.
func IDs() []ID {
	out := make([]ID, 0, len(catalog))
	for id := range catalog {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var catalog = map[ID]Info{
	CheckFailed: {
		Meaning: "a check failed and no rule names why",
		Remedy:  "The finding says what to try for the check's error class (a refused port, a silent one, a protocol, TLS or credential error); rerun with --debug to see its steps.",
	},
	CutShort: {
		Meaning: "checks did not finish before the run's deadline (below the least one a diagnosis needs, which the finding names) or Ctrl-C, so they were not judged",
		Remedy:  "Run again with a longer --timeout (the whole run's deadline), or fewer checks.",
	},
	DNSFailure: {
		Meaning: "a target name does not resolve",
		Plain:   "This computer cannot look up the server's name, so it cannot find the server at all.",
		Remedy:  "Check the name and the DNS server this client uses (on a VPN, the VPN's DNS).",
	},
	HighJitter: {
		Meaning: "jitter beyond the profile's limit",
		Plain:   "The network delay varies too much for good call quality.",
		Remedy:  "Check for congestion and prioritise voice (QoS).",
	},
	HighLatency: {
		Meaning: "round-trip time beyond the profile's limit",
		Plain:   "The network delay to the server is too high for good call quality.",
		Remedy:  "Check the WAN path and QoS.",
	},
	HostUnreachable: {
		Meaning: "nothing on the host answers: it is down, or filtered entirely",
		Plain:   "The server does not answer at all: it is down, or a firewall blocks everything from this computer.",
		Remedy:  "Check that the server is up and that any firewall on the way lets this client reach it.",
	},
	ICEFailed: {
		Meaning: "no ICE candidate pair succeeded",
		Plain:   "The audio connection for calls cannot be set up from this computer.",
		Remedy:  "Allow UDP to the media ports or make a TURN relay reachable.",
	},
	ICESignalling: {
		Meaning: "the ICE check could not exchange candidates with the responder, so the media path was not tested",
		Remedy:  "Check that `ucprobe serve` runs at the far end, that its HTTP port (8480) is reachable, and that --token matches.",
	},
	MultiHomedServer: {
		Meaning: "the server name has several addresses and not all are reachable, or answers come from another address",
		Plain:   "The server has several network addresses and this computer can reach only some of them, so calls work only some of the time.",
		Remedy:  "Route every server address, or publish only the reachable one.",
	},
	NoRoute: {
		Meaning: "ICMP unreachable or no local route to the target",
		Plain:   "This computer has no network path to the server.",
		Remedy:  "Check routing: the route to the target (default gateway, VPN routes).",
	},
	PacketLoss: {
		Meaning: "packet loss beyond the profile's limit",
		Plain:   "Too much call audio is lost on the way.",
		Remedy:  "Check for congestion, Wi-Fi quality and QoS.",
	},
	PortClosed: {
		Meaning: "the host answers with a reset: reachable, but nothing listens on the port",
		Plain:   "The server is reachable, but the service the software needs is not running on it (or not on the expected port).",
		Remedy:  "Start the service on the server, or check that the profile's port is the one it listens on.",
	},
	RelayOnly: {
		Meaning: "ICE connected only through a TURN relay",
		Plain:   "Calls work, but their audio takes a detour through a relay server, which adds delay.",
		Remedy:  "Works, with more latency; allow direct UDP for a better path.",
	},
	SIPRewrite: {
		Meaning: "the SIP server saw another address or Via than the client sent: NAT or a SIP ALG rewrites SIP",
		Remedy:  "If calls have one-way audio or drop after 30 s, turn off the SIP ALG (SIP helper) in the router or firewall.",
	},
	SmallMTU: {
		Meaning: "the route to a target leaves by an interface with an MTU below 1280",
		Plain:   "The network path to the server only carries small packets, which can break secure connections and video.",
		Remedy:  "Raise the tunnel's MTU, or let ICMP \"fragmentation needed\" through so path-MTU discovery works.",
	},
	SymmetricNAT: {
		Meaning: "the NAT mapping depends on the destination: direct peer-to-peer media will fail, TURN is needed",
		Plain:   "The internet router here changes connections in a way that stops direct call audio; a relay (TURN) server is needed.",
		Remedy:  "TURN is required: configure the clients to use the TURN server (and allow the firewall towards it), or make the NAT endpoint-independent (no per-destination or random port mapping).",
	},
	TCPBlocked: {
		Meaning: "TCP connects to a required port time out (filtered) while the host is otherwise reachable",
		Plain:   "A firewall between this computer and the server blocks a connection the software needs.",
		Remedy:  "Allow the port in the firewall between this client and the server.",
	},
	TLSExpiring: {
		Meaning: "the certificate expires within 14 days",
		Remedy:  "Renew the certificate.",
	},
	TLSFailed: {
		Meaning: "the TLS handshake failed",
		Plain:   "The secure connection to the server cannot be set up.",
		Remedy:  "Check the server's TLS configuration and anything that intercepts TLS.",
	},
	TLSUntrusted: {
		Meaning: "the TLS certificate is not trusted: an inspecting proxy or a wrong certificate",
		Plain:   "The secure connection to the server is not trusted: something on the network intercepts it, or the server has a wrong certificate.",
		Remedy:  "Exempt the server from TLS inspection, or install the right certificate on the server.",
	},
	TURNAuthFailed: {
		Meaning: "the TURN server rejects the credentials",
		Plain:   "The relay server for call audio rejects the login this computer uses.",
		Remedy:  "Check the TURN user and password (or shared secret and clock).",
	},
	TURNRelayFailed: {
		Meaning: "the TURN server allocates a relay, but no datagram passes through it",
		Remedy:  "Open the TURN server's relay port range (coturn min-port..max-port, often 49152-65535 UDP) in the server's firewall.",
	},
	TURNUnreachable: {
		Meaning: "the TURN server answers on no transport",
		Plain:   "The relay server for call audio cannot be reached from this computer.",
		Remedy:  "Allow the TURN ports (UDP/TCP 3478, TLS 5349 or 443) to the TURN server.",
	},
	TURNUntested: {
		Meaning: "no TURN credentials were given, so the relay was not tested",
		Remedy:  "Run again with --turn-user/--turn-pass or --turn-secret.",
	},
	UDPBlocked: {
		Meaning: "no UDP gets through to at least two independent destinations while TCP reaches the same hosts",
		Plain:   "A firewall blocks the kind of traffic calls use for audio (UDP). Calls may ring, but there will be no sound.",
		Remedy:  "Allow UDP in the client and site firewalls.",
	},
	UDPPortRangeBlocked: {
		Meaning: "UDP passes to some ports but a required range, or part of it, is blocked",
		Plain:   "A firewall lets some call audio through but blocks part of the port range calls need. Some calls will have no sound.",
		Remedy:  "Open the whole required UDP range in the firewall.",
	},
	UDPServiceBlocked: {
		Meaning: "UDP to one service gets no answer while TCP to the same host works",
		Remedy:  "Allow UDP to this service in the client's and the site's firewall. To tell whether all UDP is blocked, test a second UDP destination (--responder HOST at the far end, or --stun HOST:PORT).",
	},
	Untested: {
		Meaning: "required checks could not run, so part of the path is unverified",
		Remedy:  "Start a responder at the far end (ucprobe serve) and pass --responder HOST.",
	},
	VPNNoUDP: {
		Meaning: "the route to the target goes through a VPN tunnel that carries TCP but not UDP",
		Plain:   "The VPN on this computer does not carry call audio (UDP). Calls can ring, but there is no sound while the VPN is on.",
		Remedy:  "Make the VPN carry UDP to the server, or connect without it.",
	},
	VPNRequired: {
		Meaning: "the server is only reachable through a VPN that is not up",
		Plain:   "The server is on the company network and this computer is not connected to the VPN. Connect the VPN and try again.",
		Remedy:  "Connect the VPN first.",
	},
	WebSocketBlocked: {
		Meaning: "TLS works but the WebSocket upgrade does not (a proxy strips it)",
		Plain:   "A proxy or firewall lets the secure connection through but blocks the live connection the software needs (WebSocket).",
		Remedy:  "Let the proxy or firewall pass WebSocket (HTTP Upgrade) to the server.",
	},
}

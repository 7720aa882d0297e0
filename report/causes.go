package report

// Cause is a finding id. The ids in ../shared/DESIGN.md are a contract:
// the diagnosis may add new ones, never rename these.
type Cause string

// Causes from DESIGN.md.
const (
	CauseDNSFailure          Cause = "dns-failure"
	CauseTCPBlocked          Cause = "tcp-blocked"
	CausePortClosed          Cause = "port-closed"
	CauseNoRoute             Cause = "no-route"
	CauseUDPBlocked          Cause = "udp-blocked"
	CauseUDPPortRangeBlocked Cause = "udp-port-range-blocked"
	CauseVPNNoUDP            Cause = "vpn-no-udp"
	CauseVPNRequired         Cause = "vpn-required"
	CauseMultiHomedServer    Cause = "multi-homed-server"
	CauseSymmetricNAT        Cause = "symmetric-nat"
	CauseTURNAuthFailed      Cause = "turn-auth-failed"
	CauseTURNUnreachable     Cause = "turn-unreachable"
	CauseRelayOnly           Cause = "relay-only"
	CauseICEFailed           Cause = "ice-failed"
	CauseTLSUntrusted        Cause = "tls-untrusted"
	CauseWebSocketBlocked    Cause = "websocket-blocked"
	CauseHighLatency         Cause = "high-latency"
	CauseHighJitter          Cause = "high-jitter"
	CausePacketLoss          Cause = "packet-loss"
)

// Causes added by the diagnosis.
const (
	// CauseHostUnreachable: no check to a host got any answer (all silent).
	CauseHostUnreachable Cause = "host-unreachable"
	// CauseTLSFailed: the TLS handshake itself failed (not a trust problem).
	CauseTLSFailed Cause = "tls-failed"
	// CauseTLSExpiring: the certificate expires within 14 days.
	CauseTLSExpiring Cause = "tls-expiring"
	// CauseSmallMTU: the route to a target has an MTU below 1280.
	CauseSmallMTU Cause = "small-mtu"
	// CauseCheckFailed: a failed check that no rule explains (a safety net:
	// a red check never ends in an "ok" verdict).
	CauseCheckFailed Cause = "check-failed"
	// CauseUntested: required checks could not run (no responder, no
	// credentials), so the verdict says nothing about what they cover.
	CauseUntested Cause = "untested"
)

// CauseInfo is the built-in text for a cause: its title and a remedy used
// when the profile does not quote its vendor.
type CauseInfo struct {
	Meaning string
	Remedy  string
}

// Catalog describes every cause the diagnosis can name.
var Catalog = map[Cause]CauseInfo{
	CauseDNSFailure:          {"a target name does not resolve", "Check the name and the DNS server this client uses (on a VPN, the VPN's DNS)."},
	CauseTCPBlocked:          {"TCP connects to a required port time out (filtered) while the host is otherwise reachable", "Allow the port in the firewall between this client and the server."},
	CausePortClosed:          {"the host answers with a reset: reachable, but nothing listens on the port", "Start the service on the server, or check that the profile's port is the one it listens on."},
	CauseNoRoute:             {"ICMP unreachable or no local route to the target", "Check routing: the route to the target (default gateway, VPN routes)."},
	CauseUDPBlocked:          {"no UDP gets through to at least two independent destinations while TCP reaches the same hosts", "Allow UDP in the client and site firewalls."},
	CauseUDPPortRangeBlocked: {"UDP passes to some ports but a required range, or part of it, is blocked", "Open the whole required UDP range in the firewall."},
	CauseVPNNoUDP:            {"the route to the target goes through a VPN tunnel that carries TCP but not UDP", "Make the VPN carry UDP to the server, or connect without it."},
	CauseVPNRequired:         {"the server is only reachable through a VPN that is not up", "Connect the VPN first."},
	CauseMultiHomedServer:    {"the server name has several addresses and not all are reachable, or answers come from another address", "Route every server address, or publish only the reachable one."},
	CauseSymmetricNAT:        {"the NAT mapping depends on the destination: direct peer-to-peer media will fail, TURN is needed", "TURN is required: configure the clients to use the TURN server (and allow the firewall towards it), or make the NAT endpoint-independent (no per-destination or random port mapping)."},
	CauseTURNAuthFailed:      {"the TURN server rejects the credentials", "Check the TURN user and password (or shared secret and clock)."},
	CauseTURNUnreachable:     {"the TURN server answers on no transport", "Allow the TURN ports (UDP/TCP 3478, TLS 5349 or 443) to the TURN server."},
	CauseRelayOnly:           {"ICE connected only through a TURN relay", "Works, with more latency; allow direct UDP for a better path."},
	CauseICEFailed:           {"no ICE candidate pair succeeded", "Allow UDP to the media ports or make a TURN relay reachable."},
	CauseTLSUntrusted:        {"the TLS certificate is not trusted: an inspecting proxy or a wrong certificate", "Exempt the server from TLS inspection, or install the right certificate on the server."},
	CauseWebSocketBlocked:    {"TLS works but the WebSocket upgrade does not (a proxy strips it)", "Let the proxy or firewall pass WebSocket (HTTP Upgrade) to the server."},
	CauseHighLatency:         {"round-trip time beyond the profile's limit", "Check the WAN path and QoS."},
	CauseHighJitter:          {"jitter beyond the profile's limit", "Check for congestion and prioritise voice (QoS)."},
	CausePacketLoss:          {"packet loss beyond the profile's limit", "Check for congestion, Wi-Fi quality and QoS."},
	CauseHostUnreachable:     {"nothing on the host answers: it is down, or filtered entirely", "Check that the server is up and that any firewall on the way lets this client reach it."},
	CauseTLSFailed:           {"the TLS handshake failed", "Check the server's TLS configuration and anything that intercepts TLS."},
	CauseTLSExpiring:         {"the certificate expires within 14 days", "Renew the certificate."},
	CauseSmallMTU:            {"the route to a target leaves by an interface with an MTU below 1280", "Raise the tunnel's MTU, or let ICMP \"fragmentation needed\" through so path-MTU discovery works."},
	CauseCheckFailed:         {"a check failed and no rule names why", "The finding says what to try for the check's error class (a refused port, a silent one, a protocol, TLS or credential error); rerun with --debug to see its steps."},
	CauseUntested:            {"required checks could not run, so part of the path is unverified", "Start a responder at the far end (ucprobe serve) and pass --responder HOST."},
}

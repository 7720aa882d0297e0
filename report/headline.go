package report

// plainWords say each root cause in sentences a helpdesk can read out to
// a caller: no jargon beyond "VPN" and "firewall". A cause without an
// entry is introduced by its finding's title.
var plainWords = map[Cause]string{
	CauseDNSFailure:          "This computer cannot look up the server's name, so it cannot find the server at all.",
	CauseTCPBlocked:          "A firewall between this computer and the server blocks a connection the software needs.",
	CausePortClosed:          "The server is reachable, but the service the software needs is not running on it (or not on the expected port).",
	CauseNoRoute:             "This computer has no network path to the server.",
	CauseHostUnreachable:     "The server does not answer at all: it is down, or a firewall blocks everything from this computer.",
	CauseUDPBlocked:          "A firewall blocks the kind of traffic calls use for audio (UDP). Calls may ring, but there will be no sound.",
	CauseUDPPortRangeBlocked: "A firewall lets some call audio through but blocks part of the port range calls need. Some calls will have no sound.",
	CauseVPNNoUDP:            "The VPN on this computer does not carry call audio (UDP). Calls can ring, but there is no sound while the VPN is on.",
	CauseVPNRequired:         "The server is on the company network and this computer is not connected to the VPN. Connect the VPN and try again.",
	CauseMultiHomedServer:    "The server has several network addresses and this computer can reach only some of them, so calls work only some of the time.",
	CauseSymmetricNAT:        "The internet router here changes connections in a way that stops direct call audio; a relay (TURN) server is needed.",
	CauseTURNAuthFailed:      "The relay server for call audio rejects the login this computer uses.",
	CauseTURNUnreachable:     "The relay server for call audio cannot be reached from this computer.",
	CauseRelayOnly:           "Calls work, but their audio takes a detour through a relay server, which adds delay.",
	CauseICEFailed:           "The audio connection for calls cannot be set up from this computer.",
	CauseTLSUntrusted:        "The secure connection to the server is not trusted: something on the network intercepts it, or the server has a wrong certificate.",
	CauseTLSFailed:           "The secure connection to the server cannot be set up.",
	CauseWebSocketBlocked:    "A proxy or firewall lets the secure connection through but blocks the live connection the software needs (WebSocket).",
	CauseHighLatency:         "The network delay to the server is too high for good call quality.",
	CauseHighJitter:          "The network delay varies too much for good call quality.",
	CausePacketLoss:          "Too much call audio is lost on the way.",
	CauseSmallMTU:            "The network path to the server only carries small packets, which can break secure connections and video.",
}

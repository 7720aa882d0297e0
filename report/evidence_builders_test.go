package report

import (
	"time"

	"github.com/ucprobe/ucprobe/probe"
)

// Synthetic evidence for report's tests, one family: check(id, kind) starts
// a passing probe.Result; chainable modifiers say where it ran, how it ended
// and what its typed details hold; r() hands the Result over.
//
//	check("stun", probe.KindSTUN).udp().at("pbx.corp", "172.16.5.9").failed(probe.ClassTimeout).r()
//	check("turn-udp", probe.KindTURN).udp().atTURN().creds(probe.CredLongTerm, 401).failed(probe.ClassAuth).r()
//
// An evidence is a value: a base kept in a variable can be refined many
// times. The typed-detail modifiers copy the details they change, so no two
// checks share them.
type evidence probe.Result

func check(id string, kind probe.Kind) evidence {
	return evidence{ID: id, Kind: kind, Status: probe.StatusPass}
}

// r is the finished check.
func (e evidence) r() probe.Result { return probe.Result(e) }

// with applies a one-off change no modifier names.
func (e evidence) with(f func(*probe.Result)) evidence {
	f((*probe.Result)(&e))
	return e
}

// Identity and place.

func (e evidence) id(id string) evidence { return e.with(func(r *probe.Result) { r.ID = id }) }

// at: the host as the profile named it (also the target) and the address probed.
func (e evidence) at(host, addr string) evidence {
	return e.with(func(r *probe.Result) { r.Host, r.Address, r.Target = host, addr, host })
}
func (e evidence) port(p int) evidence { return e.with(func(r *probe.Result) { r.Port = p }) }
func (e evidence) target(t string) evidence {
	return e.with(func(r *probe.Result) { r.Target = t })
}

// atTURN: turn.example:3478 at 198.51.100.7, the STUN/TURN server of the UDP rules' tests.
func (e evidence) atTURN() evidence {
	return e.at("turn.example", "198.51.100.7").port(3478).target("turn.example:3478")
}

// atPBX: pbx.example at 198.51.100.20, the UDP rules' tests' second host (the
// server and its media range), on the port those tests give every check.
func (e evidence) atPBX() evidence {
	return e.at("pbx.example", "198.51.100.20").port(3478).target("pbx.example:30000-30099")
}

func (e evidence) over(t probe.Transport) evidence {
	return e.with(func(r *probe.Result) { r.Transport = t })
}
func (e evidence) udp() evidence { return e.over(probe.TransportUDP) }
func (e evidence) tcp() evidence { return e.over(probe.TransportTCP) }

// Outcome.

func (e evidence) status(st probe.Status, c probe.ErrorClass) evidence {
	return e.with(func(r *probe.Result) { r.Status, r.Class = st, c })
}
func (e evidence) failed(c probe.ErrorClass) evidence  { return e.status(probe.StatusFail, c) }
func (e evidence) warned(c probe.ErrorClass) evidence  { return e.status(probe.StatusWarn, c) }
func (e evidence) skipped(c probe.ErrorClass) evidence { return e.status(probe.StatusSkip, c) }
func (e evidence) optional() evidence                  { return e.with(func(r *probe.Result) { r.Optional = true }) }
func (e evidence) err(msg string) evidence             { return e.with(func(r *probe.Result) { r.Error = msg }) }

// noResponder: skipped, as the runner skips a check only a ucprobe
// responder at the far end can answer.
func (e evidence) noResponder() evidence {
	return e.skipped("").err("needs a ucprobe responder at the far end").with(func(r *probe.Result) { r.Details.SkipReason = probe.SkipNoResponder })
}

// Typed details.

// details sets the details outright, for a check whose details are its point.
func (e evidence) details(d probe.Details) evidence {
	return e.with(func(r *probe.Result) { r.Details = d })
}

// nat: STUN saw this NAT mapping from two servers.
func (e evidence) nat(m probe.NATBehavior) evidence {
	return e.with(func(r *probe.Result) {
		r.Details.STUN = &probe.STUNDetails{NAT: &probe.NATInfo{Mapping: m, Mapped: map[string]string{"a:3478": "203.0.113.5:1000", "b:3478": "203.0.113.5:1001"}}}
	})
}

// turn changes a copy of the TURN details (new ones if there are none).
func (e evidence) turn(f func(*probe.TURNDetails)) evidence {
	return e.with(func(r *probe.Result) { r.Details.TURN = copyEdit(r.Details.TURN, f) })
}

// copyEdit is f applied to a copy of *p (to a zero T if p is nil).
func copyEdit[T any](p *T, f func(*T)) *T {
	var d T
	if p != nil {
		d = *p
	}
	f(&d)
	return &d
}

// creds: TURN as user alice with these credentials; code is the STUN error
// code the server answered (0: none).
func (e evidence) creds(k probe.CredentialKind, code int) evidence {
	return e.turn(func(d *probe.TURNDetails) { d.Credentials, d.ErrorCode, d.Username = k, code, "alice" })
}

// relay: TURN allocated relayed and sent datagrams through it, none came back.
func (e evidence) relay(relayed string, sent int) evidence {
	return e.turn(func(d *probe.TURNDetails) { d.RelayedAddr, d.RelaySent = relayed, sent })
}

// relayNAT: TURN's relay saw this NAT mapping (why: what it could not determine).
func (e evidence) relayNAT(m probe.NATBehavior, why string) evidence {
	return e.turn(func(d *probe.TURNDetails) {
		d.NAT = &probe.NATInfo{Mapping: m, Method: probe.NATMethodTURNRelay, PublicAddr: "203.0.113.1:7089", Undetermined: why,
			Observations: []probe.NATObservation{
				{Destination: "198.51.100.7:3478", Mapped: "203.0.113.1:7089", Via: probe.NATViaSTUN},
				{Destination: "198.51.100.7:52001", Mapped: "203.0.113.1:5041", Via: probe.NATViaRelay},
			}}
	})
}

// sweep changes a copy of the UDP range details (new ones if there are none).
func (e evidence) sweep(f func(*probe.UDPRangeDetails)) evidence {
	return e.with(func(r *probe.Result) { r.Details.UDPRange = copyEdit(r.Details.UDPRange, f) })
}

// swept: a UDP range sweep's counts; the ports neither open nor closed are filtered.
func (e evidence) swept(ports, open, closed int) evidence {
	return e.sweep(func(d *probe.UDPRangeDetails) {
		d.Ports, d.Open, d.Closed, d.Filtered = ports, open, closed, ports-open-closed
	})
}
func (e evidence) ranges(s string) evidence {
	return e.sweep(func(d *probe.UDPRangeDetails) { d.Ranges = s })
}
func (e evidence) responder(s string) evidence {
	return e.sweep(func(d *probe.UDPRangeDetails) { d.Responder = s })
}

// runs: a sweep of 30000-33000 against a ucprobe responder, made of runs
// (see run) as the probe reports them; it fails (timeout) when a port is
// not open.
func (e evidence) runs(runs ...probe.UDPSubRange) evidence {
	e = e.ranges("30000-33000").responder("ucprobe").sweep(func(d *probe.UDPRangeDetails) {
		d.SubRanges = runs
		for _, r := range runs {
			d.Ports += r.Ports
			switch r.State {
			case probe.PortOpen:
				d.Open += r.Ports
			case probe.PortFiltered:
				d.Filtered += r.Ports
			case probe.PortProhibited:
				d.Prohibited += r.Ports
			case probe.PortClosed:
				d.Closed += r.Ports
			}
		}
	})
	if e.Details.UDPRange.Open < e.Details.UDPRange.Ports {
		return e.failed(probe.ClassTimeout)
	}
	return e
}

// receipts: the responder confirmed which datagrams arrived.
func (e evidence) receipts() evidence {
	return e.sweep(func(d *probe.UDPRangeDetails) { d.Receipts = true })
}

// sampled: 90 ports of 30000-33000 sampled live (no responder), reached of
// them answering, judged v with these blocked sub-ranges.
func (e evidence) sampled(v probe.LiveVerdict, reached int, blocked ...probe.UDPSubRange) evidence {
	return e.sweep(func(d *probe.UDPRangeDetails) {
		*d = probe.UDPRangeDetails{Ranges: "30000-33000", Ports: 90, Open: reached, Filtered: 90 - reached, Sampled: true, Sent: 200, Rounds: 3,
			Inconclusive: v == probe.LiveSilent || v == probe.LiveScattered,
			// Scattered silence shows as filtered runs too: the rules must not name them.
			SubRanges: []probe.UDPSubRange{{Range: probe.PortRange{First: 30000, Last: 30100}, State: probe.PortOpen, Ports: 5}, {Range: probe.PortRange{First: 30150, Last: 30150}, State: probe.PortFiltered, Ports: 1}},
			Live:      &probe.UDPLiveDetails{Verdict: v, Reached: reached, Density: 0.97, Blocked: blocked, Reason: "scattered or silent"}}
	})
}

// run is one run of a sweep: ports first..last in state, lost in direction dir.
func run(first, last uint16, state, dir string) probe.UDPSubRange {
	return probe.UDPSubRange{Range: probe.PortRange{First: first, Last: last}, State: state, Direction: dir, Ports: int(last-first) + 1}
}

// ice: ICE details of mode; the selected pair among d.Pairs becomes d.Selected.
func (e evidence) ice(mode probe.ICEMode, d probe.ICEDetails) evidence {
	d.Mode = mode
	for i := range d.Pairs {
		if d.Pairs[i].Selected {
			p := d.Pairs[i]
			d.Selected = &p
		}
	}
	return e.details(probe.Details{ICE: &d})
}

// connectedVia: two-ended ICE connected from a local host candidate, or with
// relayProto set from a relay candidate reached over relayProto.
func (e evidence) connectedVia(relayProto string) evidence {
	local := probe.ICECandidate{Type: "host", Protocol: "udp"}
	if relayProto != "" {
		local = probe.ICECandidate{Type: "relay", Protocol: "udp", RelayProtocol: relayProto}
	}
	return e.details(probe.Details{ICE: &probe.ICEDetails{Mode: "two-ended", State: "connected", Selected: &probe.ICEPair{Local: local, Selected: true}}})
}

// measured: ICE of mode connected through the TURN server and measured a
// G.711 stream over path that lost loss % of it.
func (e evidence) measured(mode probe.ICEMode, path string, loss float64) evidence {
	return e.ice(mode, probe.ICEDetails{State: "connected", Servers: []string{"turn:198.51.100.7:3478?transport=udp"},
		Media: &probe.MediaStats{Codec: "G.711", PacketMS: 20, DurationS: 3, Sent: 150, Received: 150 - int(loss*1.5), LossPct: loss,
			RTTMeanMS: 20, JitterMS: 2, MOS: 3.9, Grade: "fair", Path: path}})
}

// cand is an ICE candidate over UDP (relayProto: how a relay candidate
// reaches its TURN server).
func cand(typ probe.CandidateType, addr string, port int, relayProto string) probe.ICECandidate {
	return probe.ICECandidate{ID: string(typ) + addr, Type: typ, Protocol: "udp", Address: addr, Port: port, RelayProtocol: relayProto}
}

// Candidates of this client (A) and the far end (B).
var (
	hostA  = cand("host", "192.168.0.2", 50000, "")
	srflxA = cand("srflx", "198.51.100.1", 40000, "")
	relayA = cand("relay", "203.0.113.10", 49152, "udp")
	relayT = cand("relay", "203.0.113.10", 49200, "tcp")
	hostB  = cand("host", "10.2.0.2", 30000, "")
	srflxB = cand("srflx", "198.51.100.2", 30010, "")
	relayB = cand("relay", "203.0.113.10", 49160, "")
)

// pair is a candidate pair that sent 20 checks; a succeeded one got 3
// answers; sel marks it selected and nominated.
func pair(l, r probe.ICECandidate, state probe.PairState, sel bool) probe.ICEPair {
	p := probe.ICEPair{Local: l, Remote: r, State: state, RequestsSent: 20, Selected: sel, Nominated: sel}
	if state == "succeeded" {
		p.ResponsesReceived, p.RTTMS = 3, 21.5
	}
	return p
}

// goodMedia is a clean G.711 stream within every limit.
func goodMedia() *probe.MediaStats {
	return &probe.MediaStats{Codec: "G.711", PacketMS: 20, DurationS: 5, Sent: 250, Received: 250, RTTMeanMS: 20, RTTP95MS: 25, JitterMS: 2, MOS: 4.38, Grade: "excellent", Transport: "udp"}
}

// cert: a TLS 1.3 certificate issued by a corporate inspection CA, 60 days
// left, verified or not (reason: probe's VerifyReason).
func (e evidence) cert(verified bool, reason string) evidence {
	return e.details(probe.Details{TLS: &probe.TLSDetails{Version: "TLS 1.3", Verified: verified, VerifyReason: reason, Issuer: "CN=Corp Inspect CA", DaysLeft: 60, NotAfter: time.Now().Add(60 * 24 * time.Hour)}})
}

// upgrade: a WebSocket to the check's host (set by at first) that got as
// far as stage, answered HTTP code through a proxy after a verified TLS 1.3
// handshake.
func (e evidence) upgrade(stage string, code int) evidence {
	return e.details(probe.Details{WebSocket: &probe.WebSocketDetails{URL: "wss://" + e.Host + "/", Stage: stage, StatusCode: code, Status: "403 Forbidden",
		Headers: map[string]string{"Via": "1.1 proxy"}, TLS: &probe.TLSDetails{Version: "TLS 1.3", Verified: true}}})
}

// siteICE is the ICE check of the ICE rules' tests (target "site"), for ice().
var siteICE = check("ice", probe.KindICE).target("site")

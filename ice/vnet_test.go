package ice

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/test"
	"github.com/pion/transport/v5/vnet"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// A virtual internet (pion vnet; no packet leaves the process): a TURN
// server on the WAN, the client behind NAT A, the responder behind NAT B.
// Addresses are from the documentation ranges.
const (
	vTURN     = "203.0.113.10"
	vPublicA  = "198.51.100.1"
	vPublicB  = "198.51.100.2"
	vClient   = "192.168.0.2"
	vSite     = "10.2.0.2"
	vTURNPort = 3478
)

type topology struct {
	wan          *vnet.Router
	client, site *vnet.Net
	delay        *vnet.DelayFilter
}

type topoOpts struct {
	natA, natB  vnet.NATType
	clientDelay time.Duration // added to every packet arriving at the client
	dropEvery   int           // drop every Nth media packet from the client on the WAN
	noTURN      bool
}

func buildTopology(t *testing.T, o topoOpts) *topology {
	t.Helper()
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "0.0.0.0/0", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	turnNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{vTURN}})
	if err != nil {
		t.Fatal(err)
	}
	if err := wan.AddNet(turnNet); err != nil {
		t.Fatal(err)
	}
	lan := func(public, cidr, ip string, nat vnet.NATType) (*vnet.Router, *vnet.Net) {
		r, err := vnet.NewRouter(&vnet.RouterConfig{StaticIPs: []string{public}, CIDR: cidr, NATType: &nat, LoggerFactory: logging.NewDefaultLoggerFactory()})
		if err != nil {
			t.Fatal(err)
		}
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		if err := wan.AddRouter(r); err != nil {
			t.Fatal(err)
		}
		return r, n
	}
	ra, client := lan(vPublicA, "192.168.0.0/24", vClient, o.natA)
	rb, site := lan(vPublicB, "10.2.0.0/24", vSite, o.natB)
	topo := &topology{wan: wan, client: client, site: site}
	if o.clientDelay > 0 {
		df, err := vnet.NewDelayFilter(client, vnet.WithDelay(o.clientDelay))
		if err != nil {
			t.Fatal(err)
		}
		topo.delay = df
		if err := ra.AddNet(df); err != nil {
			t.Fatal(err)
		}
	} else if err := ra.AddNet(client); err != nil {
		t.Fatal(err)
	}
	if err := rb.AddNet(site); err != nil {
		t.Fatal(err)
	}
	if o.dropEvery > 0 {
		var n atomic.Int64
		wan.AddChunkFilter(func(c vnet.Chunk) bool {
			if len(c.UserData()) != 172 || !strings.HasPrefix(c.SourceAddr().String(), vPublicA+":") {
				return true
			}
			return n.Add(1)%int64(o.dropEvery) != 0
		})
	}
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	if !o.noTURN {
		startVNetTURN(t, turnNet, vTURN)
	}
	t.Cleanup(func() {
		if topo.delay != nil {
			topo.delay.Close()
		}
		wan.Stop()
	})
	return topo
}

var (
	eiNAT  = vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointIndependent}
	apdNAT = vnet.NATType{MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
)

// twoEndedVNet runs a two-ended check: ICE in the vnet, signalling over
// loopback HTTP to a responder whose agent lives behind NAT B.
func twoEndedVNet(t *testing.T, topo *topology, servers []string, timing Timing, media time.Duration) probe.Result {
	t.Helper()
	r, err := NewResponderHandler(ResponderConfig{Servers: servers, TURNUser: testUser, TURNPass: testPass,
		ShareTURNCredentials: true, Token: testToken, Net: topo.site, Timing: timing})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.StripPrefix("", r))
	defer func() { srv.Close(); r.Close() }()
	c := &Checker{Net: topo.client, Timing: timing}
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
	cfg := &probe.Config{Responder: strings.TrimPrefix(srv.URL, "https://"), Media: media,
		ResponderToken: testToken, ResponderFingerprint: responder.Fingerprint(srv.Certificate().Raw)}
	return runCheck(t, c, spec, cfg, 15*time.Second)
}

func turnServers() []string {
	return []string{"stun:" + vTURN + ":3478", "turn:" + vTURN + ":3478?transport=udp"}
}

func dump(t *testing.T, res probe.Result) string {
	b, _ := json.MarshalIndent(res.Details.ICE, "", " ")
	return string(b)
}

func TestVNetNATs(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	t.Run("endpoint-independent both sides: direct pair", func(t *testing.T) {
		topo := buildTopology(t, topoOpts{natA: eiNAT, natB: eiNAT})
		res := twoEndedVNet(t, topo, turnServers(), DefaultTiming, 0)
		d := res.Details.ICE
		if res.Status != probe.StatusPass {
			t.Fatalf("%s %s: %s\n%s", res.Status, res.Class, res.Error, dump(t, res))
		}
		if strings.HasPrefix(d.SelectedVia, "relay") {
			t.Errorf("selected via %s; a direct pair works through endpoint-independent NATs", d.SelectedVia)
		}
		t.Logf("via %s in %.0f ms", d.SelectedVia, d.ConnectedMS)
	})
	t.Run("address-and-port-dependent both sides: relay only", func(t *testing.T) {
		topo := buildTopology(t, topoOpts{natA: apdNAT, natB: apdNAT})
		res := twoEndedVNet(t, topo, turnServers(), DefaultTiming, 0)
		d := res.Details.ICE
		if res.Status != probe.StatusPass {
			t.Fatalf("%s %s: %s\n%s", res.Status, res.Class, res.Error, dump(t, res))
		}
		if d.SelectedVia != "relay/udp" {
			t.Errorf("selected via %q, want relay/udp", d.SelectedVia)
		}
		direct := 0
		for _, p := range d.Pairs {
			if p.Local.Type != "relay" && p.Remote.Type != "relay" {
				direct++
				if p.State == "succeeded" {
					t.Errorf("direct pair %s->%s succeeded through symmetric NATs", p.Local.Type, p.Remote.Type)
				}
			}
		}
		if direct == 0 {
			t.Error("no direct pair was tried")
		}
		if got := diagnose(res); len(got) != 1 || got[0] != cause.RelayOnly {
			t.Errorf("diagnosis %v, want [relay-only]", got)
		}
	})
	t.Run("TURN unreachable and symmetric NAT: ICE fails within its bound", func(t *testing.T) {
		topo := buildTopology(t, topoOpts{natA: apdNAT, natB: apdNAT, noTURN: true})
		start := time.Now()
		res := twoEndedVNet(t, topo, turnServers(), DefaultTiming, time.Second)
		d := res.Details.ICE
		if res.Status != probe.StatusFail || res.Class != probe.ClassTimeout {
			t.Fatalf("%s %s: %s\n%s", res.Status, res.Class, res.Error, dump(t, res))
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("a failing ICE took %v", took)
		}
		for _, c := range d.LocalCandidates {
			if c.Type == "relay" || c.Type == "srflx" {
				t.Errorf("a %s candidate from a dead STUN/TURN server", c.Type)
			}
		}
		if !d.RelayExpected || len(d.Pairs) == 0 {
			t.Errorf("relay_expected %v, %d pairs", d.RelayExpected, len(d.Pairs))
		}
		if got := diagnose(res); len(got) == 0 || got[0] != cause.ICEFailed {
			t.Errorf("diagnosis %v, want ice-failed first", got)
		}
		t.Logf("failed after %v: %s", time.Since(start), res.Error)
	})
}

// Media statistics against injected impairments: a fixed delay on the
// way to the client and a deterministic 5 % drop of the client's media.
func TestVNetMediaImpairments(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	topo := buildTopology(t, topoOpts{natA: eiNAT, natB: eiNAT, clientDelay: 40 * time.Millisecond, dropEvery: 20})
	res := twoEndedVNet(t, topo, []string{"stun:" + vTURN + ":3478"}, DefaultTiming, 4*time.Second)
	m := res.Details.ICE.Media
	if res.Status != probe.StatusPass || m == nil {
		t.Fatalf("%s %s: %s", res.Status, res.Class, res.Error)
	}
	// 4 s at 50 packets/s, every 20th dropped: 5 % lost upstream.
	if m.LossPct < 4 || m.LossPct > 6.5 {
		t.Errorf("loss %.2f %%, want 5 %% +- 1.5", m.LossPct)
	}
	if m.LossUpPct < 4 || m.LossUpPct > 6.5 || m.LossDownPct > 1.5 {
		t.Errorf("loss up %.2f %% down %.2f %%, want about 5 and 0", m.LossUpPct, m.LossDownPct)
	}
	if m.RTTMeanMS < 40 || m.RTTMeanMS > 55 {
		t.Errorf("RTT mean %.2f ms, want 40 ms injected + a few", m.RTTMeanMS)
	}
	want := MOS(RFactor(G711, m.RTTMeanMS, m.JitterMS, m.LossPct))
	if d := m.MOS - want; d > 0.01 || d < -0.01 {
		t.Errorf("MOS %.2f, E-model of the figures says %.2f", m.MOS, want)
	}
	if m.MOS > 4.0 {
		t.Errorf("MOS %.2f with 5 %% loss", m.MOS)
	}
	if got := diagnose(res); len(got) != 1 || got[0] != cause.PacketLoss {
		t.Errorf("diagnosis %v, want [packet-loss] (5 %% over the 1 %% default)", got)
	}
	t.Logf("media %+v", *m)
}

// diagnose runs the report's rules over one ice result with the default
// limits and returns the causes in order.
func diagnose(res probe.Result) []report.Cause {
	var out []report.Cause
	for _, f := range report.Diagnose(report.Input{Checks: []probe.Result{res}, Limits: profiles.DefaultLimits}, nil) {
		out = append(out, f.Cause)
	}
	return out
}

//go:build linux

package lab

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests assert that each scenario produces its FAULT, with plain tools
// (getent, curl, openssl, turnutils_stunclient) and labd's probes in the
// client namespace: not with ucprobe, whose scenario assertions build on
// these helpers. UDP assertions target the echo host (echo.lab.example) or
// coturn, which always answer STUN, so they do not depend on what the
// responder on xphone.lab.example (ucprobe serve or the stand-in) answers.

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func hostPort(host string, port int) string { return host + ":" + strconv.Itoa(port) }

// probe runs `labd probe tcp|udp ADDR` in the client and returns its class
// (first word: ok, refused, timeout, unreachable, prohibited) and line.
func probe(t *testing.T, proto, addr string, extra ...string) (class, line string) {
	t.Helper()
	out, _ := Labd(t, "client", append([]string{"probe", proto, addr, "--timeout", "700ms"}, extra...)...)
	line = strings.TrimSpace(out)
	class, _, _ = strings.Cut(line, " ")
	return class, line
}

func wantClass(t *testing.T, proto, addr, want string) string {
	t.Helper()
	got, line := probe(t, proto, addr)
	if got != want {
		t.Errorf("%s %s: got %q, want %s", proto, addr, line, want)
	}
	return line
}

func resolve(t *testing.T, name string) ([]string, int) {
	t.Helper()
	out, code := Exec(t, "client", "getent", "ahostsv4", name)
	var addrs []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && !slices.Contains(addrs, f[0]) {
			addrs = append(addrs, f[0])
		}
	}
	slices.Sort(addrs)
	return addrs, code
}

func stunMapping(t *testing.T) string {
	t.Helper()
	out, _ := Labd(t, "client", "stun", hostPort(NameTURN, 3478), hostPort(NameTURN2, 3478))
	for _, l := range strings.Split(out, "\n") {
		if m, ok := strings.CutPrefix(l, "mapping "); ok {
			return m
		}
	}
	return "none"
}

func turnAlloc(t *testing.T, user, pass string, tcp bool) string {
	t.Helper()
	args := []string{"turn", "--server", hostPort(NameTURN, 3478), "--user", user, "--pass", pass, "--timeout", "1500ms"}
	if tcp {
		args = append(args, "--tcp")
	}
	out, _ := Labd(t, "client", args...)
	class, _, _ := strings.Cut(strings.TrimSpace(out), " ")
	return class
}

var wsHeaders = []string{"-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
	"-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}

// wsStatus is the HTTP status curl sees for a WebSocket upgrade (101 is
// followed by a WebSocket stream, so curl ends on its time limit).
func wsStatus(t *testing.T, name string) (status string, out string) {
	t.Helper()
	args := append([]string{"curl", "-sS", "--http1.1", "--cacert", CAFile(), "-o", "/dev/null", "-D", "-",
		"-w", "status=%{http_code}\n", "--max-time", "0.7"}, wsHeaders...)
	out, _ = Exec(t, "client", append(args, "https://"+name+"/ws")...)
	m := regexp.MustCompile(`status=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		return "", out
	}
	return m[1], out
}

// tlsVerify runs openssl s_client with the lab CA and returns its exit status and output.
func tlsVerify(t *testing.T, name string, port int) (int, string) {
	t.Helper()
	out, code := ExecCombined(t, "client", "timeout", "5", "openssl", "s_client", "-connect", hostPort(name, port),
		"-servername", name, "-CAfile", CAFile(), "-verify_return_error", "-brief")
	return code, out
}

func TestScenarioList(t *testing.T) {
	Require(t)
	out, err := script(10*time.Second, "scenario", "list")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out); !slices.Equal(got, Scenarios) {
		t.Errorf("lab.sh scenarios %v, lab.Scenarios %v", got, Scenarios)
	}
	out, err = script(10*time.Second, "up") // idempotent: a second up is a no-op
	if err != nil || !strings.Contains(out, "already up") {
		t.Errorf("second up: %v %s", err, out)
	}
	if out, err := script(10*time.Second, "status"); err != nil || !strings.Contains(out, "lab: up") {
		t.Errorf("status: %v %s", err, out)
	}
}

func TestClean(t *testing.T) {
	Scenario(t, "clean")
	for name, want := range map[string][]string{
		NameServer: {ServerIP}, NameTURN: {TurnIP}, NameWSS: {WSSIP}, NameMulti: {ServerDMZIP, ServerIP},
		NameUntrusted: {UntrustedIP}, NameWSProxy: {WSProxyIP}, NameServerVPN: {ServerVPNIP}, NameEcho: {EchoIP},
	} {
		if got, _ := resolve(t, name); !slices.Equal(got, want) {
			t.Errorf("%s resolves to %v, want %v", name, got, want)
		}
	}
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort2), "ok")
	for _, p := range []int{MediaPortLow, 31500, MediaPortHigh, 3478} {
		wantClass(t, "udp", hostPort(NameEcho, p), "ok")
	}
	wantClass(t, "udp", hostPort(NameTURN, 3478), "ok")
	if m := stunMapping(t); m != "endpoint-independent" {
		t.Errorf("NAT mapping %q, want endpoint-independent", m)
	}
	user, pass := TurnCreds(t)
	if c := turnAlloc(t, user, pass, false); c != "ok" {
		t.Errorf("TURN/UDP allocate: %s", c)
	}
	if c := turnAlloc(t, user, pass, true); c != "ok" {
		t.Errorf("TURN/TCP allocate: %s", c)
	}
	for _, ep := range []struct {
		name string
		port int
	}{{NameWSS, 443}, {NameWSProxy, 443}, {NameTURN, 5349}} {
		if code, out := tlsVerify(t, ep.name, ep.port); code != 0 || !strings.Contains(out, "CONNECTION ESTABLISHED") {
			t.Errorf("TLS %s:%d with the lab CA: exit %d\n%s", ep.name, ep.port, code, out)
		}
	}
	if st, out := wsStatus(t, NameWSS); st != "101" || !strings.Contains(out, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
		t.Errorf("WebSocket upgrade at %s: status %q, want 101 with the RFC 6455 accept key\n%s", NameWSS, st, out)
	}
	// Always-faulty names exist in clean too.
	if code, out := tlsVerify(t, NameUntrusted, 443); code == 0 || !strings.Contains(out, "unable to get local issuer certificate") {
		t.Errorf("TLS %s: exit %d, want a verify error\n%s", NameUntrusted, code, out)
	}
	if st, _ := wsStatus(t, NameWSProxy); st != "403" {
		t.Errorf("WebSocket upgrade at %s: status %q, want 403", NameWSProxy, st)
	}
	// The VPN is up in clean: the internal address is reachable through it.
	line := wantClass(t, "tcp", hostPort(NameServerVPN, SignalPort), "ok")
	if !strings.Contains(line, "local="+VPNClientIP+":") {
		t.Errorf("%s not reached through tun0: %s", NameServerVPN, line)
	}
}

func TestUDPDrop(t *testing.T) {
	Scenario(t, "udp-drop")
	wantClass(t, "udp", hostPort(NameEcho, MediaPortLow), "timeout")
	wantClass(t, "udp", hostPort(NameTURN, 3478), "timeout")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
	if out, code := Exec(t, "client", "timeout", "2", "turnutils_stunclient", NameTURN); code != 124 {
		t.Errorf("turnutils_stunclient: exit %d, want 124 (timeout)\n%s", code, out)
	}
	if c := turnAlloc(t, "labuser", "labpass", true); c != "ok" {
		t.Errorf("TURN/TCP allocate: %s, want ok (only UDP is dropped)", c)
	}
}

func TestUDPProhibited(t *testing.T) {
	Scenario(t, "udp-prohibited")
	line := wantClass(t, "udp", hostPort(NameEcho, MediaPortLow), "prohibited")
	if !strings.Contains(line, "type=3 code=13 from="+RouterLAN) {
		t.Errorf("want ICMP type 3 code 13 from the router %s: %s", RouterLAN, line)
	}
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
}

func TestRangePartial(t *testing.T) {
	Scenario(t, "range-partial")
	for _, p := range []int{30000, 30999, 3478} {
		wantClass(t, "udp", hostPort(EchoIP, p), "ok")
	}
	for _, p := range []int{31000, 32000, 33000} {
		wantClass(t, "udp", hostPort(EchoIP, p), "timeout")
	}
}

func TestTCPFiltered(t *testing.T) {
	Scenario(t, "tcp-filtered")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "timeout")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort2), "ok")
}

func TestTCPClosed(t *testing.T) {
	Scenario(t, "tcp-closed")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "refused")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort2), "ok")
}

func TestVPNNoUDP(t *testing.T) {
	Scenario(t, "vpn-no-udp")
	if out, _ := Exec(t, "client", "ip", "route", "get", ServerIP); !strings.Contains(out, "dev tun0") {
		t.Errorf("route to %s not through tun0: %s", ServerIP, out)
	}
	line := wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
	if !strings.Contains(line, "local="+VPNClientIP+":") {
		t.Errorf("TCP did not go through the VPN: %s", line)
	}
	wantClass(t, "udp", hostPort(NameEcho, MediaPortLow), "timeout")
	if c := turnAlloc(t, "labuser", "labpass", false); c != "timeout" {
		t.Errorf("TURN/UDP through the VPN: %s, want timeout", c)
	}
	if c := turnAlloc(t, "labuser", "labpass", true); c != "ok" {
		t.Errorf("TURN/TCP through the VPN: %s, want ok", c)
	}
}

// wantMultiHomedName: the server's name resolves to both its addresses,
// as a multi-homed server's does.
func wantMultiHomedName(t *testing.T) {
	t.Helper()
	if got, _ := resolve(t, NameServer); !slices.Equal(got, []string{ServerDMZIP, ServerIP}) {
		t.Errorf("%s resolves to %v, want both %s and %s", NameServer, got, ServerIP, ServerDMZIP)
	}
}

func TestMultiHomed(t *testing.T) {
	Scenario(t, "multi-homed")
	wantMultiHomedName(t)
	wantClass(t, "tcp", hostPort(ServerIP, SignalPort), "ok")
	wantClass(t, "tcp", hostPort(ServerDMZIP, SignalPort), "unreachable")
	line := wantClass(t, "udp", hostPort(ServerDMZIP, MediaPortLow), "unreachable")
	if !strings.Contains(line, "type=3 code=0 from="+RouterLAN) {
		t.Errorf("want ICMP net unreachable from the router: %s", line)
	}
}

func TestSymmetricNAT(t *testing.T) {
	Scenario(t, "symmetric-nat")
	if m := stunMapping(t); m != "address-dependent" {
		t.Errorf("NAT mapping %q, want address-dependent", m)
	}
	user, pass := TurnCreds(t)
	if c := turnAlloc(t, user, pass, false); c != "ok" {
		t.Errorf("TURN/UDP allocate: %s, want ok (TURN stays available)", c)
	}
}

// symmetric-nat-site-fw: the symmetric NAT of symmetric-nat, plus the
// XPhone server site's firewall: inbound only UDP 30000-33000 and 3478 and
// TCP 443, 2230, 7222, 8480 (plus established/related). Closed ports that
// answer with a reset or ICMP port unreachable in clean time out here, the
// responder's ephemeral ports included; clean flushes the rule.
func TestSymmetricNATSiteFW(t *testing.T) {
	Scenario(t, "symmetric-nat-site-fw")
	if m := stunMapping(t); m != "address-dependent" {
		t.Errorf("NAT mapping %q, want address-dependent", m)
	}
	user, pass := TurnCreds(t)
	if c := turnAlloc(t, user, pass, false); c != "ok" {
		t.Errorf("TURN/UDP allocate: %s, want ok (TURN stays available)", c)
	}
	for _, p := range []int{SignalPort, SignalPort2, HTTPPort} {
		wantClass(t, "tcp", hostPort(ServerIP, p), "ok")
	}
	wantClass(t, "tcp", hostPort(WSSIP, 443), "ok")
	wantClass(t, "tcp", hostPort(ServerIP, 9), "timeout")     // clean: refused (RST)
	wantClass(t, "udp", hostPort(ServerIP, 45000), "timeout") // an ephemeral port; clean: refused (ICMP port unreachable)
	// The media range and 3478 pass the firewall. The responder answers only
	// its own protocol, so count the packets the accept rule let in.
	for _, p := range []int{MediaPortLow, MediaPortHigh, 3478} {
		probe(t, "udp", hostPort(ServerIP, p), "--timeout", "200ms")
	}
	out, _ := Exec(t, "server", "nft", "list", "chain", "inet", "labsrv", "scenario_in")
	m := regexp.MustCompile(`udp dport \{[^}]*\} counter packets (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Errorf("no counted UDP accept rule in the server firewall:\n%s", out)
	} else if n, _ := strconv.Atoi(m[1]); n < 3 {
		t.Errorf("server firewall let in %d UDP packets to the media range and 3478, want >= 3\n%s", n, out)
	}

	Scenario(t, "clean") // reset_clean flushes the server firewall
	wantClass(t, "tcp", hostPort(ServerIP, 9), "refused")
	wantClass(t, "udp", hostPort(ServerIP, 45000), "refused")
	if m := stunMapping(t); m != "endpoint-independent" {
		t.Errorf("NAT mapping after clean %q, want endpoint-independent", m)
	}
}

func TestTurnBadCreds(t *testing.T) {
	Scenario(t, "turn-bad-creds")
	user, pass := TurnCreds(t)
	good := Env(t, "turn.env")
	if pass == good["UCPROBE_TURN_PASS"] || pass != good["UCPROBE_TURN_BAD_PASS"] {
		t.Fatalf("scenario.env should hand out the wrong password")
	}
	if c := turnAlloc(t, user, pass, false); c != "auth" {
		t.Errorf("TURN/UDP with the scenario's credentials: %s, want auth (401)", c)
	}
	if c := turnAlloc(t, good["UCPROBE_TURN_USER"], good["UCPROBE_TURN_PASS"], false); c != "ok" {
		t.Errorf("TURN/UDP with turn.env's credentials: %s, want ok", c)
	}
}

func TestDNSBroken(t *testing.T) {
	Scenario(t, "dns-broken")
	if addrs, code := resolve(t, NameServer); code == 0 || len(addrs) > 0 {
		t.Errorf("%s resolved (%v, exit %d) with DNS broken", NameServer, addrs, code)
	}
	wantClass(t, "tcp", hostPort(ServerIP, SignalPort), "ok")
}

func TestLossyUDP(t *testing.T) {
	Scenario(t, "lossy-udp")
	out, _ := Labd(t, "client", "probe", "udp", hostPort(EchoIP, MediaPortLow), "--count", "500", "--interval", "1ms", "--timeout", "500ms")
	var loss float64
	if _, err := fmt.Sscanf(out[strings.Index(out, "loss=")+5:], "%f%%", &loss); err != nil {
		t.Fatalf("no loss in %q: %v", out, err)
	}
	// 5 % per direction: about 9.75 % of request/response pairs.
	if loss < 3 || loss > 20 {
		t.Errorf("round-trip loss %.1f%%, want about 10%% (5%% each way)", loss)
	}
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
}

func TestTLSUntrusted(t *testing.T) {
	Scenario(t, "tls-untrusted")
	code, out := tlsVerify(t, NameWSS, 443)
	if code == 0 || !strings.Contains(out, "unable to get local issuer certificate") {
		t.Errorf("TLS %s: exit %d, want a verify error with the lab CA\n%s", NameWSS, code, out)
	}
	// The TLS port itself works: TCP connects.
	wantClass(t, "tcp", hostPort(NameWSS, 443), "ok")
}

func TestWSRefused(t *testing.T) {
	Scenario(t, "ws-refused")
	if code, out := tlsVerify(t, NameWSS, 443); code != 0 {
		t.Errorf("TLS %s should verify (the proxy is trusted): exit %d\n%s", NameWSS, code, out)
	}
	st, out := wsStatus(t, NameWSS)
	if st != "403" || !strings.Contains(out, "Via: 1.1 labproxy") {
		t.Errorf("WebSocket upgrade at %s: status %q, want 403 with Via\n%s", NameWSS, st, out)
	}
}

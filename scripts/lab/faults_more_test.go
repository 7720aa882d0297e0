//go:build linux

package lab

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Plain-tool fault tests for the parts added with the ucprobe diagnosis
// cases: the vpn-down and turn-blocked scenarios and UCConnect's STUN/TURN
// on 3478.

func TestVPNDown(t *testing.T) {
	Scenario(t, "vpn-down")
	if out, _ := Exec(t, "client", "ip", "link", "show", "tun0"); !strings.Contains(out, "NO-CARRIER") {
		t.Errorf("tun0 should have no carrier with the VPN client stopped: %s", out)
	}
	if out, _ := Exec(t, "client", "ip", "route", "get", ServerVPNIP); !strings.Contains(out, "dev tun0") {
		t.Errorf("route to %s should still point into tun0: %s", ServerVPNIP, out)
	}
	wantClass(t, "tcp", hostPort(NameServerVPN, SignalPort), "timeout")
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok") // the internet still works

	// clean starts the VPN client again
	Scenario(t, "clean")
	line := wantClass(t, "tcp", hostPort(NameServerVPN, SignalPort), "ok")
	if !strings.Contains(line, "local="+VPNClientIP+":") {
		t.Errorf("TCP to %s did not go through the VPN: %s", ServerVPNIP, line)
	}
}

func TestUCConnectTURN(t *testing.T) {
	Scenario(t, "clean")
	wantClass(t, "udp", hostPort(NameWSS, 3478), "ok")
	user, pass := TurnCreds(t)
	for _, tcp := range []bool{false, true} {
		args := []string{"turn", "--server", hostPort(NameWSS, 3478), "--user", user, "--pass", pass, "--timeout", "1500ms"}
		if tcp {
			args = append(args, "--tcp")
		}
		if out, _ := Labd(t, "client", args...); !strings.HasPrefix(out, "ok ") {
			t.Errorf("TURN at %s:3478 (tcp %v): %s, want ok", NameWSS, tcp, out)
		}
	}
}

func TestTurnBlocked(t *testing.T) {
	Scenario(t, "turn-blocked")
	wantClass(t, "udp", hostPort(NameTURN, 3478), "timeout")
	wantClass(t, "udp", hostPort(NameTURN2, 3478), "timeout")
	wantClass(t, "tcp", hostPort(NameTURN, 3478), "timeout")
	wantClass(t, "udp", hostPort(NameEcho, MediaPortLow), "ok") // other UDP passes
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
}

// Only the TURN ports are dropped: the TURN host still answers elsewhere.
func TestTurnPortsFiltered(t *testing.T) {
	Scenario(t, "turn-ports-filtered")
	wantClass(t, "udp", hostPort(NameTURN, 3478), "timeout")
	wantClass(t, "tcp", hostPort(NameTURN, 3478), "timeout")
	wantClass(t, "tcp", hostPort(TurnIP, 22), "refused") // the host is there
	wantClass(t, "udp", hostPort(NameEcho, MediaPortLow), "ok")
}

// The second address of the server is silent (no ICMP at all) and the
// signalling port is filtered on both; the first still answers on other
// ports.
func TestMultiHomedSigFiltered(t *testing.T) {
	Scenario(t, "multi-homed-sig-filtered")
	wantMultiHomedName(t)
	wantClass(t, "tcp", hostPort(ServerDMZIP, SignalPort), "timeout")
	wantClass(t, "udp", hostPort(ServerDMZIP, MediaPortLow), "timeout")
	wantClass(t, "tcp", hostPort(ServerIP, SignalPort), "timeout")
	wantClass(t, "tcp", hostPort(ServerIP, SignalPort2), "ok")
	wantClass(t, "tcp", hostPort(ServerDMZIP, SignalPort2), "timeout")
}

// labd delay holds every frame 50-300 ms each way: round trips of a few
// hundred ms with jitter of the same order, and nothing lost.
func TestSlowPath(t *testing.T) {
	Scenario(t, "slow-path")
	out, _ := Labd(t, "client", "probe", "udp", hostPort(NameEcho, MediaPortLow), "--count", "40", "--interval", "20ms", "--timeout", "2s")
	m := regexp.MustCompile(`received=(\d+) .*rtt_min=([0-9.]+)ms`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no counts in %q", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 38 {
		t.Errorf("%s of 40 echoed through the slow path, want nearly all (it delays, it does not drop)", m[1])
	}
	if minRTT, _ := strconv.ParseFloat(m[2], 64); minRTT < 100 {
		t.Errorf("minimum round trip %s ms, want at least 100 (50 ms each way at the least)", m[2])
	}
	wantClass(t, "tcp", hostPort(NameServer, SignalPort), "ok")
	// clean puts the router's port back into the bridge: fast again.
	Scenario(t, "clean")
	out, _ = Labd(t, "client", "probe", "udp", hostPort(NameEcho, MediaPortLow))
	m = regexp.MustCompile(`rtt_min=([0-9.]+)(µs|ms)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("after clean: no round trip in %q", out)
	}
	if ms, _ := strconv.ParseFloat(m[1], 64); m[2] == "ms" && ms > 50 {
		t.Errorf("after clean: %q, want a fast path again", out)
	}
}

//go:build linux

package lab

import (
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

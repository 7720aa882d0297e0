package ice

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5/test"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

const coturnSecret = "rest-shared-secret-for-tests"

// startCoturn runs Debian's coturn on ip with long-term credentials
// (testUser/testPass) or, rest set, TURN REST (coturnSecret). It waits
// until the TCP listener accepts and stops the server in t.Cleanup.
func startCoturn(t *testing.T, ip string, rest bool) int {
	t.Helper()
	bin := probetest.NeedBinary(t, "turnserver", "coturn")
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	dir := t.TempDir()
	args := []string{"-n", "--realm", testRealm, "--listening-ip", ip, "--relay-ip", ip, "-p", strconv.Itoa(port),
		"--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-stdout-log", "--simple-log",
		"--log-file", filepath.Join(dir, "turn.log"), "--pidfile", filepath.Join(dir, "turn.pid"),
		"--min-port", "40000", "--max-port", "40999"}
	if rest {
		args = append(args, "--use-auth-secret", "--static-auth-secret", coturnSecret)
	} else {
		args = append(args, "--lt-cred-mech", "--user", testUser+":"+testPass)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	if !probetest.Eventually(5*time.Second, func() bool {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("coturn on %s did not come up: %v (log in %s)", addr, err, dir)
	}
	return port
}

func TestCoturn(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	ltPort := startCoturn(t, "127.0.0.3", false)
	restPort := startCoturn(t, "127.0.0.4", true)
	rest := probe.TURNCredentials{SharedSecret: coturnSecret}
	for _, tc := range []struct {
		name      string
		host      string
		port      int
		mode      probe.ICEMode
		transport probe.Transport
		creds     probe.TURNCredentials
		kind      probe.CredentialKind
		via       string
	}{
		{"one-ended long-term", "127.0.0.3", ltPort, ModeOneEnded, "", creds(), "long-term", ""},
		{"relay-relay long-term tcp", "127.0.0.3", ltPort, ModeRelayRelay, probe.TransportTCP, creds(), "long-term", "relay/tcp"},
		{"relay-relay rest", "127.0.0.4", restPort, ModeRelayRelay, probe.TransportUDP, rest, "rest", "relay/udp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: tc.host, Port: tc.port, Mode: string(tc.mode), Transport: tc.transport}
			res := runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: tc.creds, Media: time.Second}, 10*time.Second)
			d := res.Details.ICE
			if res.Status != probe.StatusPass {
				t.Fatalf("%s %s: %s\n%s", res.Status, res.Class, res.Error, dump(t, res))
			}
			if d.TURNCredentials != tc.kind {
				t.Errorf("credentials %q, want %q", d.TURNCredentials, tc.kind)
			}
			if tc.via != "" && d.SelectedVia != tc.via {
				t.Errorf("via %q, want %q", d.SelectedVia, tc.via)
			}
			if d.Selected.Remote.Address != tc.host {
				t.Errorf("selected remote %s, want coturn's relay on %s", d.Selected.Remote.Address, tc.host)
			}
			if m := d.Media; m == nil || m.Sent < 45 || m.LossPct > 2 || m.Grade != "excellent" {
				t.Errorf("media %+v", m)
			}
		})
	}
	t.Run("two-ended through coturn", func(t *testing.T) {
		_, addr := startResponder(t, ResponderConfig{Servers: []string{fmt.Sprintf("turn:127.0.0.3:%d?transport=udp", ltPort)},
			TURNUser: testUser, TURNPass: testPass})
		spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
		res := runCheck(t, loopbackChecker(), spec, pinned(&probe.Config{Responder: addr, TURN: creds(), Media: time.Second}), 10*time.Second)
		d := res.Details.ICE
		if res.Status != probe.StatusPass || d.Media == nil || d.Media.Received == 0 {
			t.Fatalf("%s %s: %s\n%s", res.Status, res.Class, res.Error, dump(t, res))
		}
		relays := 0
		for _, c := range d.LocalCandidates {
			if c.Type == "relay" && c.Address == "127.0.0.3" {
				relays++
			}
		}
		if relays == 0 {
			t.Error("no relay candidate from coturn")
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.3", Port: ltPort, Mode: string(ModeRelayRelay), Transport: probe.TransportUDP}
		bad := probe.TURNCredentials{Username: testUser, Password: "not-the-password"}
		res := runCheck(t, loopbackChecker(), spec, &probe.Config{TURN: bad}, 8*time.Second)
		if res.Status != probe.StatusFail || res.Details.ICE.RelayExpected != true || len(res.Details.ICE.GatherErrors) == 0 {
			t.Fatalf("%s %s: %s %v", res.Status, res.Class, res.Error, res.Details.ICE.GatherErrors)
		}
		t.Logf("%s: %s; ICE said %v", res.Class, res.Error, res.Details.ICE.GatherErrors)
	})
}

// TestCoturnTCPRelayTwoEnded: a client that can reach the TURN server
// only over TCP (as where the site drops UDP) connects to the responder
// through its relay over TCP.
func TestCoturnTCPRelayTwoEnded(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startCoturn(t, "127.0.0.3", false)
	_, addr := startResponder(t, ResponderConfig{Servers: []string{fmt.Sprintf("turn:127.0.0.3:%d?transport=udp", port)},
		TURNUser: testUser, TURNPass: testPass})
	tcpRelayTwoEnded(t, addr)
}

func tcpRelayTwoEnded(t *testing.T, addr string) {
	t.Helper()
	c := loopbackChecker()
	c.relayOnly = true
	c.serverFilter = func(s server) bool { return s.uri.Proto == stun.ProtoTypeTCP }
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
	res := runCheck(t, c, spec, pinned(&probe.Config{Responder: addr, TURN: creds(), Media: time.Second}), 10*time.Second)
	d := res.Details.ICE
	if res.Status != probe.StatusPass || d.SelectedVia != "relay/tcp" || d.Media == nil || d.Media.Received < 45 {
		t.Fatalf("%s %s: %s, via %q\n%s", res.Status, res.Class, res.Error, d.SelectedVia, dump(t, res))
	}
}

// TestCoturnUnroutableResponderAddress (root, a namespace of its own): the
// responder has a second address that coturn cannot send to (nft drops
// coturn's relay traffic to it, so sendto fails with EPERM, as an
// unrouted internal NIC gives ENETUNREACH in the lab). coturn tears the
// whole allocation down on the first failed send: offering that address
// killed the client's relay over TCP after its first check (the lab's
// udp-drop and vpn-no-udp). The responder offers only the address the
// signalling reached, so the relay over TCP connects.
func TestCoturnUnroutableResponderAddress(t *testing.T) {
	if os.Getenv("UCPROBE_ICE_IN_NETNS") == "" {
		probetest.NeedBinary(t, "nft", "nftables")
		probetest.NeedBinary(t, "turnserver", "coturn")
		ns := probetest.NewNetns(t) // root, ip; lo up; removed in Cleanup
		in := func(args ...string) { t.Helper(); probetest.NsRun(t, ns, args...) }
		in("ip", "link", "add", "ucit0", "type", "veth", "peer", "name", "ucit1")
		in("ip", "addr", "add", "10.99.0.1/24", "dev", "ucit0")
		in("ip", "link", "set", "ucit0", "up")
		in("ip", "link", "set", "ucit1", "up")
		in("nft", "add table ip t; add chain ip t out { type filter hook output priority 0; }; add rule ip t out ip daddr 10.99.0.1 udp sport 40000-40999 drop")
		cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^TestCoturnUnroutableResponderAddress$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "UCPROBE_ICE_IN_NETNS=1")
		out, err := cmd.CombinedOutput()
		t.Logf("in %s:\n%s", ns, out)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Cleanup(test.CheckRoutines(t))
	port := startCoturn(t, "127.0.0.3", false)
	// No IP filter: every address of the machine, as `ucprobe serve` on
	// all addresses.
	r, err := NewResponderHandler(ResponderConfig{Servers: []string{fmt.Sprintf("turn:127.0.0.3:%d?transport=udp", port)},
		TURNUser: testUser, TURNPass: testPass, Loopback: true, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	tcpRelayTwoEnded(t, serve(t, r))
}

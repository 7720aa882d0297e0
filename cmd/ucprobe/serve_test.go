package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/probe/responder"
)

func TestServeBadFlags(t *testing.T) {
	// Nothing may land in the user's config directory.
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--udp", "33000-30000"}, `"33000-30000"`},
		{[]string{"--udp", "30000-33000,31000"}, "overlaps"},
		{[]string{"--udp", "0-10"}, "outside 1-65535"},
		{[]string{"--udp", "70000"}, "outside 1-65535"},
		{[]string{"--udp", "abc"}, "not a port number"},
		{[]string{"--tcp", "2230,2230"}, "overlaps"},
		{[]string{"--udp", "30000", "--listen", "host.example"}, "--listen"},
		{[]string{"--udp", "30000", "--http", "8480"}, "--http"},
		{[]string{"--udp", "30000", "--rate", "0"}, "--rate"},
		{[]string{"--udp", "30000", "--burst", "0"}, "--burst"},
		{[]string{"--udp", "30000", "--ice-server", "http://x"}, "--ice-server"},
		{[]string{"--udp", "30000", "--ice-server", "turn:127.0.0.1:3478"}, "credentials"},
		{[]string{"--http", ""}, "nothing to serve"},
		{[]string{"--udp", "30000", "extra"}, "unexpected argument"},
		{[]string{"--udp", "30000", "--share-turn-credentials"}, "--share-turn-credentials needs a token"},
		{[]string{"--udp", "30000", "--token-file", "/nonexistent/token"}, "--token-file /nonexistent/token"},
		{[]string{"--udp", "30000", "--token", "a", "--token-file", "/dev/null"}, "give one"},
		{[]string{"--udp", "30000", "--turn-pass-file", "/dev/null"}, "--turn-pass-file /dev/null: want the secret on one line"},
		{[]string{"--udp", "30000", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key"},
		{[]string{"--udp", "30000", "--turn-user", "alice"}, `--turn-user "alice" without a password`},
		{[]string{"--udp", "30000", "--ice-server", "turn:127.0.0.1:3478", "--turn-user", "alice"}, `--turn-user "alice" without a password`},
		{[]string{"--nope"}, "nope"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := ucprobe(t, append([]string{"serve"}, tt.args...)...)
			if code != 3 {
				t.Fatalf("exit %d, want 3; stdout %q stderr %q", code, out, errOut)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q: want one line naming %q", errOut, tt.want)
			}
		})
	}
}

func TestServeHelpMentionsFlags(t *testing.T) {
	code, out, _ := ucprobe(t, "serve", "--help")
	for _, want := range []string{"--udp", "--tcp", "--http", "server$ ucprobe serve --udp 30000-33000 --tcp 2230", "client$ ucprobe run --profile xphone --server HOST --responder HOST"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q (exit %d)", want, code)
		}
	}
}

// freePort is a port free for UDP and TCP on 127.0.0.1 at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			u.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// A real serve on loopback answers STUN and /v1/info, and prints the
// per-client summary when its context ends (as on SIGTERM).
func TestServeLoopback(t *testing.T) {
	const token = "serve-s3cret"
	state := t.TempDir()
	tokenFile := filepath.Join(state, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	udpPort, tcpPort, httpPort := freePort(t), freePort(t), freePort(t)
	httpAddr := "127.0.0.1:" + strconv.Itoa(httpPort)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &probetest.SyncBuffer{}, &probetest.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ucprobe", "serve", "--udp", strconv.Itoa(udpPort), "--tcp", strconv.Itoa(tcpPort),
			"--listen", "127.0.0.1", "--http", ":" + strconv.Itoa(httpPort), "--token-file", tokenFile, "--state-dir", state}, out, errOut)
	}()
	defer cancel()

	// Wait until the HTTPS endpoint answers (it is bound last), on the
	// --listen address although --http gave only a port.
	req, _ := http.NewRequest(http.MethodGet, "https://"+httpAddr+responder.PathInfo, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	var info responder.Info
	var presented string
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			presented = responder.Fingerprint(cs.PeerCertificates[0].Raw)
			return nil
		}}}}
	var resp *http.Response
	var err error
	if !probetest.Eventually(10*time.Second, func() bool { resp, err = client.Do(req); return err == nil }) {
		t.Fatalf("serve did not come up: %v\nstderr %s", err, errOut.String())
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("info: %d %v", resp.StatusCode, err)
	}
	if len(info.UDP) != 1 || info.UDP[0].Lo != udpPort || !info.Token || !info.ICE {
		t.Errorf("info %+v", info)
	}

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m, err := responder.NewRequest("serve-test", responder.Key(token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteToUDP(m.Raw, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: udpPort}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no STUN answer: %v", err)
	}
	ans := &stun.Message{Raw: buf[:n]}
	if err := ans.Decode(); err != nil || ans.Type != stun.BindingSuccess || from.Port != udpPort {
		t.Fatalf("answer %v from %v: %v", ans.Type, from, err)
	}

	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
	if code != 0 {
		t.Errorf("exit %d, stderr %s", code, errOut.String())
	}
	o := out.String()
	for _, want := range []string{"UDP   " + strconv.Itoa(udpPort), "TCP   " + strconv.Itoa(tcpPort), "token on", "stopped",
		"certificate " + presented, "--responder-fingerprint " + presented,
		"127.0.0.1: UDP ports " + strconv.Itoa(udpPort) + " (1), 1 received, 1 answered"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o+errOut.String(), token) {
		t.Error("the token was printed")
	}
	// The certificate stays in the state directory: the pin survives.
	code2, fp, _ := ucprobe(t, "serve", "--print-fingerprint", "--state-dir", state)
	if code2 != 0 || strings.TrimSpace(fp) != presented {
		t.Errorf("--print-fingerprint: exit %d, %q; want %s", code2, fp, presented)
	}
}

// Without a token serve says what one would enable, and the ICE peer
// refuses in one line.
func TestServeWithoutToken(t *testing.T) {
	httpPort := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &probetest.SyncBuffer{}, &probetest.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ucprobe", "serve", "--tcp", strconv.Itoa(freePort(t)), "--listen", "127.0.0.1",
			"--http", ":" + strconv.Itoa(httpPort), "--state-dir", t.TempDir()}, out, errOut)
	}()
	if !probetest.Eventually(10*time.Second, func() bool { return strings.Contains(out.String(), "Stop with Ctrl-C") }) {
		t.Fatalf("serve did not start: %s %s", out.String(), errOut.String())
	}
	for _, want := range []string{"ICE   off (no token)", "a token (--token-file FILE) would enable the two-ended ICE check"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("start lacks %q:\n%s", want, out.String())
		}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Post("https://127.0.0.1:"+strconv.Itoa(httpPort)+responder.PathICE+"/sessions", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(h.Error, "--token-file") || strings.Contains(h.Error, "\n") {
		t.Errorf("ICE without a token: HTTP %d %q, want 403 and one line naming --token-file", resp.StatusCode, h.Error)
	}
	cancel()
	<-done
}

// A port in use is reported at start and the rest is served.
func TestServePortInUse(t *testing.T) {
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &probetest.SyncBuffer{}, &probetest.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ucprobe", "serve", "--udp", strconv.Itoa(port), "--tcp", strconv.Itoa(freePort(t)), "--listen", "127.0.0.1", "--http", ""}, out, errOut)
	}()
	if !probetest.Eventually(10*time.Second, func() bool { return strings.Contains(out.String(), "Stop with") }) {
		t.Fatalf("no start summary: %s %s", out.String(), errOut.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "not bound (in use or not permitted): "+strconv.Itoa(port)) {
		t.Errorf("output:\n%s", out.String())
	}
}

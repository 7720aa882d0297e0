package main

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pion/stun/v4"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// hostile is what a malicious server sends back: a screen clear, a
// cursor home, a window-title change and a fake all-clear.
const hostile = "\x1b[2J\x1b[H ALL OK \x1b]0;pwned\x07\u009b31m\u202e\xff"

// udpServer answers every datagram on a loopback port with what answer
// returns for it (nothing when nil), until the test ends.
func udpServer(t *testing.T, answer func(req []byte, from net.Addr) []byte) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(buf[:n], from); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// hostileSTUN answers every Binding request with a SOFTWARE attribute
// that carries terminal escape sequences.
func hostileSTUN(t *testing.T) int {
	return udpServer(t, func(b []byte, from net.Addr) []byte {
		req := &stun.Message{Raw: append([]byte(nil), b...)}
		if req.Decode() != nil {
			return nil
		}
		ua := from.(*net.UDPAddr)
		resp, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.NewSoftware("evil "+hostile), stun.Fingerprint)
		if err != nil {
			return nil
		}
		return resp.Raw
	})
}

// hostileSIP answers every request with a final response whose reason
// phrase and Server header carry escape sequences.
func hostileSIP(t *testing.T) int {
	return udpServer(t, func(b []byte, _ net.Addr) []byte {
		var via string
		for _, l := range strings.Split(string(b), "\r\n") {
			if strings.HasPrefix(l, "Via:") {
				via = l
			}
		}
		return fmt.Appendf(nil, "SIP/2.0 403 Forbidden %s\r\n%s\r\nServer: pbx %s\r\nContent-Length: 0\r\n\r\n", hostile, via, hostile)
	})
}

// TestHostileServerStrings runs the real probes against servers that
// answer with terminal escape sequences, and renders every format: none
// of them carries a control character to the reader, and the server's
// words are still there to read.
func TestHostileServerStrings(t *testing.T) {
	stunPort, sipPort := hostileSTUN(t), hostileSIP(t)
	tcpPort := probetest.SilentTCPListener(t)
	for _, format := range []string{"text", "json", "prometheus", "html"} {
		t.Run(format, func(t *testing.T) {
			_, out, errOut := ucprobe(t, "run", "--profile", "generic", "--server", "127.0.0.1",
				"--set", fmt.Sprintf("stun=%d", stunPort), "--set", fmt.Sprintf("sip=%d", sipPort),
				"--set", fmt.Sprintf("tcp=%d", tcpPort), "--timeout", "5s", "--format", format, "--verbose")
			for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e"} {
				if strings.Contains(out, bad) || strings.Contains(errOut, bad) {
					t.Errorf("%s output carries %q:\n%q", format, bad, out)
				}
			}
			if format != "prometheus" && !strings.Contains(out, "ALL OK") {
				t.Errorf("%s output lost the server's words (they are evidence):\n%s", format, out)
			}
			if format == "text" && testing.Verbose() {
				t.Log(out)
			}
			if format == "text" && (!strings.Contains(out, "evil") || !strings.Contains(out, "Forbidden")) {
				t.Errorf("text output lacks the STUN SOFTWARE or the SIP reason:\n%s", out)
			}
		})
	}
}

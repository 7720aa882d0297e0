package probe_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

func TestTLS(t *testing.T) {
	ca := probetest.NewCA(t, "ucprobe test CA")
	other := probetest.NewCA(t, "Inspecting Proxy CA")
	loop := []net.IP{net.IPv4(127, 0, 0, 1)}
	tests := []struct {
		name   string
		leaf   probetest.LeafOptions
		issuer *probetest.CA
		sni    string
		status probe.Status
		class  probe.ErrorClass
		reason string
	}{
		{name: "trusted", leaf: probetest.LeafOptions{IPs: loop, DNSNames: []string{"uc.example"}}, issuer: ca, sni: "uc.example", status: probe.StatusPass},
		{name: "inspecting proxy CA", leaf: probetest.LeafOptions{DNSNames: []string{"uc.example"}}, issuer: other, sni: "uc.example", status: probe.StatusFail, class: probe.ClassTLS, reason: probe.VerifyUnknownAuthority},
		{name: "wrong name", leaf: probetest.LeafOptions{DNSNames: []string{"other.example"}}, issuer: ca, sni: "uc.example", status: probe.StatusFail, class: probe.ClassTLS, reason: probe.VerifyNameMismatch},
		{name: "expired", leaf: probetest.LeafOptions{DNSNames: []string{"uc.example"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)}, issuer: ca, sni: "uc.example", status: probe.StatusFail, class: probe.ClassTLS, reason: probe.VerifyExpired},
		{name: "expires soon", leaf: probetest.LeafOptions{DNSNames: []string{"uc.example"}, NotAfter: time.Now().Add(5 * 24 * time.Hour)}, issuer: ca, sni: "uc.example", status: probe.StatusWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := probetest.NewWSServer(t, probetest.WSOptions{Cert: tt.issuer.Leaf(t, tt.leaf)})
			spec := probe.Spec{ID: "tls", Kind: probe.KindTLS, Host: srv.Host, Port: srv.Port, SNI: tt.sni}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			res := probe.TLS(ctx, spec, &probe.Config{RootCAs: ca.Pool()})
			if res.Status != tt.status || res.Class != tt.class {
				t.Fatalf("status %s class %q (%s), want %s %q", res.Status, res.Class, res.Error, tt.status, tt.class)
			}
			d := res.Details.TLS
			if d.VerifyReason != tt.reason {
				t.Errorf("verify reason %q, want %q", d.VerifyReason, tt.reason)
			}
			if d.Version == "" || d.CipherSuite == "" || d.ServerName != tt.sni {
				t.Errorf("handshake details missing: %+v", d)
			}
			if tt.issuer == other && !strings.Contains(d.Issuer, "Inspecting Proxy CA") {
				t.Errorf("issuer %q does not name the inspecting CA", d.Issuer)
			}
		})
	}
}

func TestTLSNotTLS(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	}()
	a := ln.Addr().(*net.TCPAddr)
	res := probe.TLS(context.Background(), probe.Spec{Kind: probe.KindTLS, Host: "127.0.0.1", Port: a.Port, SNI: "x.example"}, &probe.Config{})
	if res.Status != probe.StatusFail || res.Class != probe.ClassTLS {
		t.Fatalf("status %s class %q (%s), want fail tls", res.Status, res.Class, res.Error)
	}
}

func TestWebSocket(t *testing.T) {
	ca := probetest.NewCA(t, "ucprobe test CA")
	leaf := ca.LoopbackLeaf(t)
	ok := probetest.NewWSServer(t, probetest.WSOptions{Cert: leaf})
	refusing := probetest.NewWSServer(t, probetest.WSOptions{Cert: leaf, Refuse: true})
	untrusted := probetest.NewWSServer(t, probetest.WSOptions{Cert: probetest.NewCA(t, "Proxy CA").LoopbackLeaf(t)})
	proxyURL, tunnels := probetest.NewConnectProxy(t)
	direct := func(*http.Request) (*url.URL, error) { return nil, nil }
	viaProxy := func(*http.Request) (*url.URL, error) { return url.Parse(proxyURL) }

	tests := []struct {
		name   string
		srv    *probetest.WSServer
		proxy  func(*http.Request) (*url.URL, error)
		status probe.Status
		class  probe.ErrorClass
		stage  string
		code   int
	}{
		{"upgrade accepted", ok, direct, probe.StatusPass, probe.ClassNone, probe.WSStageDone, 101},
		{"upgrade refused by proxy-like endpoint", refusing, direct, probe.StatusFail, probe.ClassProtocol, probe.WSStageUpgrade, 403},
		{"untrusted certificate stops before upgrade", untrusted, direct, probe.StatusFail, probe.ClassTLS, probe.WSStageTLS, 0},
		{"through an HTTPS_PROXY with CONNECT", ok, viaProxy, probe.StatusPass, probe.ClassNone, probe.WSStageDone, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tunnels()
			spec := probe.Spec{ID: "ws", Kind: probe.KindWebSocket, Host: tt.srv.Host, Port: tt.srv.Port, Path: "/ws"}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			res := probe.WebSocket(ctx, spec, &probe.Config{RootCAs: ca.Pool(), Proxy: tt.proxy})
			if res.Status != tt.status || res.Class != tt.class {
				t.Fatalf("status %s class %q (%s), want %s %q", res.Status, res.Class, res.Error, tt.status, tt.class)
			}
			w := res.Details.WebSocket
			if w.Stage != tt.stage || w.StatusCode != tt.code {
				t.Errorf("stage %s code %d, want %s %d", w.Stage, w.StatusCode, tt.stage, tt.code)
			}
			if tt.code == 403 && w.Headers["Via"] != "1.1 testproxy" {
				t.Errorf("Via header not kept: %v", w.Headers)
			}
			usedProxy := tunnels()-before > 0
			if usedProxy != (w.Proxy != "") {
				t.Errorf("proxy used %v, details say %q", usedProxy, w.Proxy)
			}
		})
	}
}

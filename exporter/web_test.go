package exporter

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// TestExporterWebConfig serves the exporter through --web.config.file
// (exporter-toolkit format) with TLS and basic auth: no credentials is
// 401, wrong ones 401, right ones 200, plain HTTP gets no metrics.
func TestExporterWebConfig(t *testing.T) {
	dir := t.TempDir()
	ca := probetest.NewCA(t, "ucprobe exporter test CA")
	certFile, keyFile := probetest.WriteLeaf(t, dir, ca.LoopbackLeaf(t))
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webFile := probetest.WriteFile(t, dir, "web.yml", fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n", certFile, keyFile, hash))
	wc, err := loadWebConfig(webFile)
	if err != nil || !wc.tls {
		t.Fatalf("loadWebConfig: %+v, %v", wc, err)
	}
	s := startExporter(t, probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := serveExporter(t, s.e, newCapListener(ln, 8, !wc.tls, nil), wc)
	defer stop()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, DisableKeepAlives: true}}
	get := func(scheme, user, pass string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, scheme+"://"+ln.Addr().String()+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, tc := range []struct {
		scheme, user, pass string
		code               int
	}{
		{"https", "", "", http.StatusUnauthorized},
		{"https", "prometheus", "wrong", http.StatusUnauthorized},
		{"https", "nobody", "scrape-pw", http.StatusUnauthorized},
		{"https", "prometheus", "scrape-pw", http.StatusOK},
		{"http", "prometheus", "scrape-pw", http.StatusBadRequest}, // Go's answer to HTTP on a TLS port
	} {
		code, err := get(tc.scheme, tc.user, tc.pass)
		if err != nil || code != tc.code {
			t.Errorf("%s as %q: HTTP %d (%v), want %d", tc.scheme, tc.user, code, err, tc.code)
		}
	}
}

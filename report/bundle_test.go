package report

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

// bundleFiles unpacks a bundle into name -> content.
func bundleFiles(t *testing.T, r *Report, opt BundleOptions) map[string]string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteBundle(&b, r, opt); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(data)
	}
	return out
}

// A site report full of inside facts: private addresses (v4, v6, CGNAT,
// link-local), the server's name in targets, errors and TLS, a TURN user,
// an operator.
func insideReport(t *testing.T) *Report {
	r := htmlSamples(t)["blocked-range"]
	r.Variables = map[string]string{"server": "pbx.corp.example", "turn": "turn.corp.example:3478"}
	r.Labels = map[string]string{"operator": "jane.doe", "site": "berlin"}
	c := &r.Checks[0]
	c.Host, c.Address, c.Target = "pbx.corp.example", "10.20.30.40", "pbx.corp.example:2230"
	c.Error = "dial tcp 10.20.30.40:2230 via PBX.corp.example: i/o timeout"
	r.Checks = append(r.Checks, probe.Result{ID: "turn-udp", Kind: probe.KindTURN, Host: "turn.corp.example", Address: "100.64.1.2",
		Target: "turn.corp.example:3478", Status: probe.StatusPass,
		Details: probe.Details{TURN: &probe.TURNDetails{Username: "alice.site", Credentials: "long-term"}}})
	r.Environment.Interfaces = append(r.Environment.Interfaces, probe.Interface{Name: "wlan0", Addrs: []string{"fe80::1c2d:3eff:fe4f:5a6b/64", "fd12:3456::7/64"}})
	r.Environment.Routes = []probe.Route{{Destination: "10.20.30.40", Interface: "tun0", Gateway: "192.168.178.1", ViaVPN: true}}
	r.Environment.NAT = &probe.NATInfo{Mapping: probe.NATEndpointIndependent, PublicAddr: "198.51.100.77:40000"}
	r.Environment.Proxy = probe.ProxyInfo{HTTPSProxy: "http://webproxy.corp.example:3128", NoProxy: "localhost,.intra.corp.example"}
	return r
}

func TestBundleRedacts(t *testing.T) {
	r := insideReport(t)
	inside := []string{"pbx.corp.example", "PBX.corp.example", "turn.corp.example", "10.20.30.40", "100.64.1.2", "192.168.178.1",
		"fe80::1c2d:3eff:fe4f:5a6b", "fd12:3456::7", "alice.site", "jane.doe",
		"webproxy.corp.example", "intra.corp.example"}
	plain := bundleFiles(t, r, BundleOptions{})
	for _, name := range []string{"README.txt", "report.json", "report.txt", "report.html", "environment.json"} {
		if plain[name] == "" {
			t.Errorf("bundle lacks %s", name)
		}
	}
	if !strings.Contains(plain["report.json"], "10.20.30.40") {
		t.Fatal("the unredacted bundle lost the address it should keep")
	}

	x := NewRedactor([]byte("0123456789abcdef-test-key"))
	red := bundleFiles(t, r, BundleOptions{Redactor: x})
	for name, body := range red {
		for _, s := range inside {
			if strings.Contains(body, s) {
				t.Errorf("%s still holds %q after --redact", name, s)
			}
		}
	}
	host := x.placeholder("host", "pbx.corp.example")
	for _, name := range []string{"report.json", "report.txt", "report.html"} {
		if !strings.Contains(red[name], host) {
			t.Errorf("%s: the server's name is not the same placeholder %s everywhere", name, host)
		}
	}
	// Public facts stay: the site's NAT address and the vendor's document.
	if !strings.Contains(red["report.json"], "198.51.100.77") || !strings.Contains(red["report.json"], "Why are softphone calls") {
		t.Error("redaction took public facts too")
	}

	// The same key gives the same placeholders, so two redacted reports of
	// one site still compare; another key gives others.
	a, _ := x.Redact(r)
	b, _ := NewRedactor([]byte("0123456789abcdef-test-key")).Redact(r)
	if a.Variables["server"] != b.Variables["server"] || a.Checks[0].Address != b.Checks[0].Address {
		t.Errorf("same key, different placeholders: %s/%s", a.Variables["server"], b.Variables["server"])
	}
	if c, _ := NewRedactor([]byte("another-key-of-16-bytes")).Redact(r); c.Variables["server"] == a.Variables["server"] {
		t.Error("another key gave the same placeholder")
	}
	if d, err := Compare(a, b); err != nil || len(d.Changes) != 0 {
		t.Errorf("two redactions of one report differ: %v %+v", err, d)
	}
}

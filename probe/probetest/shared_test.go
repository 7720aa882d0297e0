package probetest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOpenFDs(t *testing.T) {
	if runtime.GOOS != "linux" {
		if n := OpenFDs(t); n != -1 {
			t.Fatalf("OpenFDs = %d off Linux, want -1", n)
		}
		t.Skip("counts only on Linux")
	}
	dir := t.TempDir()
	for _, n := range []int{0, 1, 3} {
		before := OpenFDs(t)
		var fs []*os.File
		for i := range n {
			f, err := os.Create(filepath.Join(dir, fmt.Sprint("f", n, i)))
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		if got := OpenFDs(t); got != before+n {
			t.Errorf("%d files opened: %d descriptors, want %d", n, got, before+n)
		}
		for _, f := range fs {
			f.Close()
		}
		if got := OpenFDs(t); got != before {
			t.Errorf("%d files closed: %d descriptors, want %d again", n, got, before)
		}
	}
}

func TestWriteLeaf(t *testing.T) {
	ca := NewCA(t, "ucprobe probetest CA")
	for _, tc := range []struct {
		name   string
		cert   tls.Certificate
		valid  []string // names or addresses the files serve
		others []string // ones they do not
	}{
		{"loopback", ca.LoopbackLeaf(t), []string{"127.0.0.1", "::1", "localhost"}, []string{"192.0.2.1", "example.com"}},
		{"addresses", ca.Leaf(t, LeafOptions{IPs: []net.IP{net.ParseIP("192.0.2.7"), net.ParseIP("192.0.2.8")}}), []string{"192.0.2.7", "192.0.2.8"}, []string{"127.0.0.1", "localhost"}},
		{"names", ca.Leaf(t, LeafOptions{DNSNames: []string{"turn.example"}}), []string{"turn.example"}, []string{"127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certFile, keyFile := WriteLeaf(t, t.TempDir(), tc.cert)
			pair, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				t.Fatalf("the files do not load as a key pair: %v", err)
			}
			if len(pair.Certificate) != 1 {
				t.Errorf("cert.pem holds %d certificates, want the leaf alone", len(pair.Certificate))
			}
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tc.valid {
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			for _, name := range tc.others {
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}); err == nil {
					t.Errorf("%s: verified, want refused", name)
				}
			}
		})
	}
}

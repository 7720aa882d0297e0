package probetest

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ParseMetrics parses a Prometheus text exposition, failing t when it
// does not parse.
func ParseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v\n%s", err, body)
	}
	return mfs
}

// MetricValue returns the value of the one sample of name whose labels
// include want; ok is false when there is not exactly one.
func MetricValue(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	v, n := MetricSamples(mfs, name, want)
	return v, n == 1
}

// MetricSamples counts the samples of name whose labels include want and
// returns the value of the last of them.
func MetricSamples(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, n int) {
	for _, m := range mfs[name].GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, x := range want {
			if have[k] != x {
				match = false
			}
		}
		if match {
			n++
			switch {
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				v = m.GetUntyped().GetValue()
			}
		}
	}
	return v, n
}

// ClosedTCPPort is a loopback port nothing listens on (bound, then released).
func ClosedTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// WriteFile writes content to dir/name (mode 0600) and returns the path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// SilentTCPListener accepts and holds connections (a server that never
// speaks), until the test ends.
func SilentTCPListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// NXResolver says every name but localhost is unknown, so no test sends a
// DNS query off the machine.
type NXResolver struct{}

// LookupNetIP implements probe.Resolver.
func (NXResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// AcceptingTCPListener is a loopback port that accepts connections and
// closes them at once, until the test ends; it returns the port.
func AcceptingTCPListener(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	AcceptAndClose(t, ln)
	return ln.Addr().(*net.TCPAddr).Port
}

// AcceptAndClose accepts connections on ln and closes them at once, until
// the test ends (it closes ln then).
func AcceptAndClose(t testing.TB, ln net.Listener) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// OpenFDs counts this process's open file descriptors, or -1 where there
// is no /proc/self/fd (not Linux): a leak test compares two counts.
func OpenFDs(t testing.TB) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

package probetest

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// CoturnOptions choose the coturn variant a test needs.
type CoturnOptions struct {
	// AuthSecret starts coturn with use-auth-secret (TURN REST) instead
	// of a long-term user.
	AuthSecret bool
	// TLS adds TLS and DTLS listeners (TLSPort) with a certificate from a
	// generated test CA that has IP SANs for the listening addresses.
	TLS bool
	// Single listens on one address only (no RFC 5780).
	Single bool
	// Port fixes the UDP/TCP port (0: a free one).
	Port int
	// Netns runs coturn inside this network namespace (ip netns exec);
	// the test's own traffic must then come from inside it too.
	Netns string
}

// Coturn is a coturn started on loopback for one test. It listens on
// 127.0.0.2 and (unless Single) 127.0.0.3, which turns on RFC 5780
// (OTHER-ADDRESS, CHANGE-REQUEST) with the alternate port Port+1.
type Coturn struct {
	IP, AltIP string // listening addresses
	Port      int    // UDP and TCP
	TLSPort   int    // 0 without TLS
	Realm     string
	User      string
	Pass      string
	Secret    string
	// CAPool trusts the test certificate; CAFile is the same CA as PEM.
	CAPool *x509.CertPool
	CAFile string

	cmd  *exec.Cmd
	log  *bytes.Buffer
	once sync.Once
}

// Addr is IP:Port.
func (c *Coturn) Addr() string { return net.JoinHostPort(c.IP, strconv.Itoa(c.Port)) }

// StartCoturn starts turnserver (Debian package coturn) and waits until
// it answers a STUN Binding; it is stopped on t.Cleanup. Without the
// binary the test skips (fails under UCPROBE_CI=1).
func StartCoturn(t testing.TB, opt CoturnOptions) *Coturn {
	t.Helper()
	bin := NeedBinary(t, "turnserver", "coturn")
	dir := t.TempDir()
	c := &Coturn{IP: "127.0.0.2", AltIP: "127.0.0.3", Realm: "ucprobe.test", User: "alice", Pass: "s3cret-Pa55", Secret: "rest-Secret-42", log: &bytes.Buffer{}}
	if opt.Single {
		c.AltIP = ""
	}
	var err error
	for try := 0; try < 10 && opt.Port == 0; try++ {
		if c.Port, err = freePorts(c.IP, 2); err == nil {
			break
		}
	}
	if opt.Port != 0 {
		c.Port = opt.Port
	}
	if err != nil {
		t.Fatalf("coturn: no free port pair: %v", err)
	}
	args := []string{"-n", "--no-cli", "--listening-ip=" + c.IP, "--listening-port=" + strconv.Itoa(c.Port),
		"--alt-listening-port=" + strconv.Itoa(c.Port+1),
		"--relay-ip=" + c.IP, "--realm=" + c.Realm, "--fingerprint", "--allow-loopback-peers",
		"--min-port=40000", "--max-port=60000", "--log-file=stdout", "--simple-log",
		"--pidfile=" + filepath.Join(dir, "turn.pid"), "--userdb=" + filepath.Join(dir, "turn.db"),
		"--no-multicast-peers", "--no-tcp-relay"}
	if c.AltIP != "" {
		args = append(args, "--listening-ip="+c.AltIP)
	}
	if opt.AuthSecret {
		args = append(args, "--use-auth-secret", "--static-auth-secret="+c.Secret)
	} else {
		args = append(args, "--lt-cred-mech", "--user="+c.User+":"+c.Pass)
	}
	if opt.TLS {
		for try := 0; try < 10; try++ {
			if c.TLSPort, err = freePorts(c.IP, 2); err == nil && c.TLSPort != c.Port && c.TLSPort != c.Port+1 && c.TLSPort+1 != c.Port {
				break
			}
		}
		if err != nil {
			t.Fatalf("coturn: no free TLS port: %v", err)
		}
		ca := NewCA(t, "ucprobe test CA")
		var ips []net.IP
		for _, ip := range []string{c.IP, c.AltIP} {
			if ip != "" {
				ips = append(ips, net.ParseIP(ip))
			}
		}
		certFile, keyFile := WriteLeaf(t, dir, ca.Leaf(t, LeafOptions{IPs: ips}))
		c.CAPool, c.CAFile = ca.Pool(), ca.WritePEM(t, dir)
		args = append(args, "--tls-listening-port="+strconv.Itoa(c.TLSPort), "--alt-tls-listening-port="+strconv.Itoa(c.TLSPort+1),
			"--cert="+certFile, "--pkey="+keyFile)
	} else {
		args = append(args, "--no-tls", "--no-dtls")
	}
	c.cmd = exec.Command(bin, args...)
	if opt.Netns != "" {
		// ip execs turnserver after entering the namespace: same pid.
		c.cmd = exec.Command("ip", append([]string{"netns", "exec", opt.Netns, bin}, args...)...)
	}
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("coturn: %v", err)
	}
	t.Cleanup(c.Stop)
	if opt.Netns != "" {
		if err := waitNetns(opt.Netns, c.IP, c.Port, 5*time.Second); err != nil {
			c.Stop()
			t.Fatalf("coturn in %s: %v\n%s", opt.Netns, err, c.log.String())
		}
		return c
	}
	if err := waitSTUN(c.Addr(), 5*time.Second); err != nil {
		c.Stop()
		t.Fatalf("coturn did not answer STUN on %s: %v\n%s", c.Addr(), err, c.log.String())
	}
	if opt.TLS {
		if err := waitTCP(net.JoinHostPort(c.IP, strconv.Itoa(c.TLSPort)), 5*time.Second); err != nil {
			c.Stop()
			t.Fatalf("coturn TLS listener: %v", err)
		}
	}
	return c
}

// Stop ends coturn and waits for it (idempotent).
func (c *Coturn) Stop() {
	c.once.Do(func() {
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
	})
}

// freePorts finds a port p on ip such that p..p+n-1 are free for UDP and TCP.
func freePorts(ip string, n int) (int, error) {
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		return 0, err
	}
	p := u.LocalAddr().(*net.UDPAddr).Port
	_ = u.Close()
	if p+n > 65535 {
		return 0, fmt.Errorf("port %d too high", p)
	}
	for i := 0; i < n; i++ {
		uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: p + i})
		if err != nil {
			return 0, err
		}
		tc, err := net.Listen("tcp4", net.JoinHostPort(ip, strconv.Itoa(p+i)))
		_ = uc.Close()
		if err != nil {
			return 0, err
		}
		_ = tc.Close()
	}
	return p, nil
}

// waitSTUN polls with Binding requests until one is answered.
func waitSTUN(addr string, limit time.Duration) error {
	end := time.Now().Add(limit)
	c, err := net.Dial("udp4", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for time.Now().Before(end) {
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
		if _, err := c.Write(req.Raw); err == nil {
			_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if n, err := c.Read(buf); err == nil && stun.IsMessage(buf[:n]) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %s", limit)
}

// waitNetns waits until coturn's TCP listener shows inside the namespace.
func waitNetns(ns, ip string, port int, limit time.Duration) error {
	end := time.Now().Add(limit)
	want := net.JoinHostPort(ip, strconv.Itoa(port))
	for time.Now().Before(end) {
		out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Hltn").Output()
		if bytes.Contains(out, []byte(want)) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no TCP listener on %s within %s", want, limit)
}

func waitTCP(addr string, limit time.Duration) error {
	end := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(end) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

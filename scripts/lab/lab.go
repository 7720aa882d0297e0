//go:build linux

// Package lab drives the ucprobe network-namespace lab (scripts/lab.sh)
// from Go tests: bring it up once per test binary, switch scenarios, and run
// commands inside the lab's namespaces. See README.md in this directory for
// the topology, the address plan and what each scenario does.
//
// Use it from any package's tests:
//
//	func TestMain(m *testing.M) { os.Exit(lab.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		lab.Scenario(t, "udp-drop") // calls lab.Require(t) first
//		out, code := lab.Exec(t, "client", lab.UcprobeBin(t), "run", "--server", lab.NameServer)
//		...
//	}
//
// Tests skip when not root or when `ip netns` is unavailable, and fail
// instead when UCPROBE_REQUIRE_LAB=1. The lab is torn down when the test
// binary ends unless LAB_KEEP=1. Tests sharing the lab must not run in
// parallel; test binaries (packages) take turns through a lock file.
package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Address plan (kept in sync with scripts/lab.sh).
const (
	ClientIP    = "10.10.0.10"    // client eth0 (LAN)
	RouterLAN   = "10.10.0.1"     // router lan0: gateway, DNS (dnsmasq), VPN endpoint TCP 10443
	RouterWAN   = "203.0.113.1"   // router wan0: the NAT address the servers see
	ServerIP    = "203.0.113.10"  // server: responder (ucprobe serve or the stand-in)
	WSSIP       = "203.0.113.20"  // server: TLS + WebSocket 443
	UntrustedIP = "203.0.113.21"  // server: TLS 443 with a certificate from an untrusted CA
	WSProxyIP   = "203.0.113.22"  // server: TLS 443 that refuses the WebSocket upgrade
	TurnIP      = "203.0.113.30"  // turn: coturn
	TurnIP2     = "203.0.113.31"  // turn: coturn's second address (RFC 5780)
	Turn1IP     = "203.0.113.32"  // turn: a second coturn on this address only (no RFC 5780)
	EchoIP      = "203.0.113.40"  // inet: echo host (UDP STUN answer/echo on 30000-33000,3478; TCP 2230,7222)
	ServerVPNIP = "192.0.2.10"    // server int0: reachable only through the VPN (tun0)
	ServerDMZIP = "198.51.100.10" // server dmz0: the router has no route to it
	VPNClientIP = "172.16.99.2"   // client tun0
	VPNRouterIP = "172.16.99.1"   // router vpn0
	VPNPort     = 10443
)

// Names served by the LAN resolver (dnsmasq on the router).
const (
	NameServer    = "xphone.lab.example"     // ServerIP (+ ServerDMZIP in scenario multi-homed)
	NameTURN      = "turn.lab.example"       // TurnIP
	NameTURN2     = "turn2.lab.example"      // TurnIP2
	NameTURN1     = "turn1.lab.example"      // Turn1IP: one-address STUN/TURN (no RFC 5780)
	NameWSS       = "ucconnect.lab.example"  // WSSIP
	NameUntrusted = "untrusted.lab.example"  // UntrustedIP
	NameWSProxy   = "wsproxy.lab.example"    // WSProxyIP
	NameMulti     = "multi.lab.example"      // ServerIP and ServerDMZIP
	NameServerVPN = "xphone-vpn.lab.example" // ServerVPNIP
	NameEcho      = "echo.lab.example"       // EchoIP
)

// Ports of the responder (ucprobe serve --udp 30000-33000,3478 --tcp 2230,7222 --http :8480).
const (
	MediaPortLow  = 30000
	MediaPortHigh = 33000
	SignalPort    = 2230
	SignalPort2   = 7222
	HTTPPort      = 8480
)

// Roles are the namespaces exec accepts.
var Roles = []string{"client", "router", "inet", "server", "turn"}

// Scenarios are the names `scripts/lab.sh scenario` accepts.
var Scenarios = []string{"clean", "udp-drop", "udp-prohibited", "range-partial", "tcp-filtered", "tcp-closed",
	"vpn-no-udp", "vpn-down", "multi-homed", "multi-homed-sig-filtered", "symmetric-nat", "symmetric-nat-site-fw", "turn-bad-creds",
	"turn-blocked", "turn-ports-filtered", "slow-path", "dns-broken", "lossy-udp",
	"tls-untrusted", "ws-refused"}

// EnvRequire makes tests fail instead of skip when the lab cannot run.
const EnvRequire = "UCPROBE_REQUIRE_LAB"

var (
	state struct {
		sync.Mutex
		mainRan     bool
		short       bool  // -short: the lab is not brought up
		unavailable error // why the lab cannot run here (skip, or fail with EnvRequire)
		upErr       error // the lab should run but did not come up (fail)
	}
)

// Dir is the lab's state directory (LAB_DIR, default /tmp/ucprobe-lab).
func Dir() string {
	if d := os.Getenv("LAB_DIR"); d != "" {
		return strings.TrimRight(d, "/")
	}
	return "/tmp/ucprobe-lab"
}

// nsPrefix is LAB_NS_PREFIX, default "ucl-".
func nsPrefix() string {
	if p, ok := os.LookupEnv("LAB_NS_PREFIX"); ok {
		return p
	}
	return "ucl-"
}

// NS is the network namespace name of a role.
func NS(role string) string { return nsPrefix() + role }

// CAFile is the lab CA the client trusts (pass it with --ca-file).
func CAFile() string { return filepath.Join(Dir(), "ca.pem") }

// TokenFile holds the token `ucprobe serve` runs with in the lab (pass it
// with --token-file; the client trusts the responder's certificate
// through CAFile).
func TokenFile() string { return filepath.Join(Dir(), "responder.token") }

// LabdBin is the labd helper binary the lab built.
func LabdBin() string { return filepath.Join(Dir(), "bin", "labd") }

// RepoRoot is the root of the ucprobe module.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Script is the path of scripts/lab.sh.
func Script() string { return filepath.Join(RepoRoot(), "scripts", "lab.sh") }

// Available reports why the lab cannot run on this machine (nil: it can).
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("the lab needs root (network namespaces, nft, tun)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the lab needs iproute2 (`ip`)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ip", "netns", "list").CombinedOutput(); err != nil {
		return fmt.Errorf("`ip netns` is unavailable: %v %s", err, bytes.TrimSpace(out))
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return errors.New("the lab needs /dev/net/tun")
	}
	return nil
}

// script runs scripts/lab.sh with args under a timeout.
func script(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{Script()}, args...)...)
	cmd.Dir = RepoRoot()
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Up brings the lab up (idempotent; the first run builds labd and ucprobe).
func Up() error { _, err := script(3*time.Minute, "up"); return err }

// Down tears the lab down (safe when nothing runs).
func Down() error { _, err := script(time.Minute, "down"); return err }

// Main is for TestMain: it brings the lab up once for the test binary, runs
// the tests and tears the lab down (unless LAB_KEEP=1). Test binaries that
// use the lab take turns through the lock file LAB_DIR.test.lock.
func Main(m *testing.M) int {
	flag.Parse()
	state.Lock()
	state.mainRan = true
	if testing.Short() {
		state.short = true
		state.Unlock()
		return m.Run() // every test skips: -short is the quick suite
	}
	state.unavailable = Available()
	state.Unlock()
	if state.unavailable != nil {
		return m.Run() // every test skips (or fails with UCPROBE_REQUIRE_LAB=1)
	}
	unlock, err := lockFile(Dir() + ".test.lock")
	if err != nil {
		state.upErr = err
		return m.Run()
	}
	defer unlock()
	start := time.Now()
	if err := Up(); err != nil {
		state.upErr = err
	} else {
		fmt.Fprintf(os.Stderr, "lab: up in %s (%s)\n", time.Since(start).Round(10*time.Millisecond), Dir())
	}
	code := m.Run()
	if os.Getenv("LAB_KEEP") == "1" {
		fmt.Fprintf(os.Stderr, "lab: LAB_KEEP=1, leaving the lab up (scripts/lab.sh down)\n")
		return code
	}
	start = time.Now()
	if err := Down(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	} else {
		fmt.Fprintf(os.Stderr, "lab: down in %s\n", time.Since(start).Round(10*time.Millisecond))
	}
	return code
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// Require skips t when the lab cannot run here (not root, no `ip netns`),
// or fails it when UCPROBE_REQUIRE_LAB=1; it fails t when the lab should
// run but did not come up.
func Require(t testing.TB) {
	t.Helper()
	state.Lock()
	mainRan, short, unavailable, upErr := state.mainRan, state.short, state.unavailable, state.upErr
	state.Unlock()
	if !mainRan {
		t.Fatal("lab: call os.Exit(lab.Main(m)) from TestMain to use the lab")
	}
	if short {
		t.Skip("lab: skipped under -short (scripts/test.sh runs it in the full suite)")
	}
	if unavailable != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("lab required (%s=1) but unavailable: %v", EnvRequire, unavailable)
		}
		t.Skipf("lab unavailable: %v (set %s=1 to fail instead)", unavailable, EnvRequire)
	}
	if upErr != nil {
		t.Fatalf("lab did not come up: %v", upErr)
	}
}

// Scenario switches the lab to scenario name (reset to clean first) and
// switches back to clean when t ends.
func Scenario(t testing.TB, name string) {
	t.Helper()
	Require(t)
	start := time.Now()
	if _, err := script(time.Minute, "scenario", name); err != nil {
		t.Fatal(err)
	}
	t.Logf("lab: scenario %s (%s)", name, time.Since(start).Round(time.Millisecond))
	if name != "clean" {
		t.Cleanup(func() {
			if _, err := script(time.Minute, "scenario", "clean"); err != nil {
				t.Errorf("lab: back to clean: %v", err)
			}
		})
	}
}

// ExecTimeout bounds each Exec (override per call with ExecContext).
var ExecTimeout = 30 * time.Second

// Exec runs args inside role's namespace (with LAB_DIR/bin on PATH, so
// "labd" works) and returns its stdout and exit status; stderr goes to the
// test log. A command that cannot start or times out fails t.
func Exec(t testing.TB, role string, args ...string) (stdout string, exit int) {
	t.Helper()
	out, _, code := run(t, context.Background(), role, false, nil, args...)
	return out, code
}

// ExecCombined is Exec with stderr appended to stdout (openssl, curl -v).
func ExecCombined(t testing.TB, role string, args ...string) (output string, exit int) {
	t.Helper()
	out, _, code := run(t, context.Background(), role, true, nil, args...)
	return out, code
}

// ExecContext is Exec under ctx (cancel to stop the command).
func ExecContext(t testing.TB, ctx context.Context, role string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	return run(t, ctx, role, false, nil, args...)
}

// ExecEnvContext is ExecContext with env (KEY=VALUE) added to the command's
// environment: secrets stay off its command line, and parallel subtests
// need no process-wide t.Setenv.
func ExecEnvContext(t testing.TB, ctx context.Context, role string, env []string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	return run(t, ctx, role, false, env, args...)
}

func run(t testing.TB, ctx context.Context, role string, combined bool, env []string, args ...string) (string, string, int) {
	t.Helper()
	Require(t)
	if len(args) == 0 {
		t.Fatal("lab.Exec: no command")
	}
	known := false
	for _, r := range Roles {
		known = known || r == role
	}
	if !known {
		t.Fatalf("lab.Exec: unknown role %q (roles %v)", role, Roles)
	}
	ctx, cancel := context.WithTimeout(ctx, ExecTimeout)
	defer cancel()
	full := append([]string{"netns", "exec", NS(role), "env", "PATH=" + filepath.Join(Dir(), "bin") + ":" + os.Getenv("PATH")}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	cmd.WaitDelay = 2 * time.Second
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var so, se bytes.Buffer
	cmd.Stdout = &so
	if combined {
		cmd.Stderr = &so
	} else {
		cmd.Stderr = &se
	}
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	case ctx.Err() != nil:
		t.Fatalf("lab.Exec %s %q: timed out after %s\n%s%s", role, args, took, so.String(), se.String())
	default:
		t.Fatalf("lab.Exec %s %q: %v", role, args, err)
	}
	t.Logf("[%s %s] %s -> exit %d\n%s%s", role, took, strings.Join(args, " "), code, indent(so.String()), indent(se.String()))
	return so.String(), se.String(), code
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		b.WriteString("    ")
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// Labd runs the lab's labd helper (probe, stun, turn ...) inside role.
func Labd(t testing.TB, role string, args ...string) (stdout string, exit int) {
	t.Helper()
	return Exec(t, role, append([]string{LabdBin()}, args...)...)
}

// Env reads a KEY=VALUE file of the lab (lab.env, turn.env, scenario.env).
func Env(t testing.TB, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), file))
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

// TurnCreds are the TURN credentials of the current scenario: the lab user
// (labuser/labpass) except in turn-bad-creds, where the password is wrong
// (coturn is unchanged; the lab hands out a wrong password on purpose).
func TurnCreds(t testing.TB) (user, pass string) {
	t.Helper()
	e := Env(t, "scenario.env")
	return e["UCPROBE_TURN_USER"], e["UCPROBE_TURN_PASS"]
}

// Responder is "ucprobe" when the lab runs `ucprobe serve`, "standin" when
// it runs labd's stand-in.
func Responder(t testing.TB) string {
	t.Helper()
	return Env(t, "lab.env")["LAB_RESPONDER"]
}

// UcprobeBin is the ucprobe binary the lab built or was given (UCPROBE_BIN);
// it fails t when there is none.
func UcprobeBin(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("UCPROBE_BIN"); b != "" {
		return b
	}
	b := filepath.Join(Dir(), "bin", "ucprobe")
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("lab: no ucprobe binary at %s (go build ./cmd/ucprobe failed? see %s/log/build-ucprobe.log)", b, Dir())
	}
	return b
}

//go:build unix

package exporter

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// TestExporterSIGHUP reloads the config on SIGHUP through the real serve
// loop, and keeps the old config when the new file is invalid.
func TestExporterSIGHUP(t *testing.T) {
	dir := t.TempDir()
	cfgPath := probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  a:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	cfg, err := loadExporterConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := &probetest.SyncBuffer{}
	e := newExporter(cfgPath, cfg, slog.New(slog.NewTextHandler(logs, nil)), "test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.serve(ctx, ln, webConfig{}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/-/healthy"
	// serve registers for SIGHUP before it answers HTTP.
	waitFor(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	has := func(name string) func() bool {
		return func() bool { _, ok := e.cfg.Load().Modules[name]; return ok }
	}
	probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  b:\n    profile: generic\n    timeout: nonsense\n")
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.m.reloadFailures != nil && testutilCount(e) == 1 })
	if !has("a")() {
		t.Fatal("an invalid file replaced the config")
	}
	probetest.WriteFile(t, dir, "probes.yaml", "modules:\n  b:\n    profile: generic\n    allowed_targets: [127.0.0.1]\n")
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, has("b"))
}

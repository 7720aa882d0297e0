package exporter

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExporterConfig: whatever probes.yaml holds, the loader answers with
// a config or one line of errExporterConfig, never a panic; a config it
// accepts keeps its bounds and never lets a module probe any target
// unless it said allow_any_target. Seeds: testdata/fuzz/FuzzExporterConfig.
func FuzzExporterConfig(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseExporterConfig(filepath.Join(dir, "probes.yaml"), data)
		if err != nil {
			if !errors.Is(err, errExporterConfig) {
				t.Fatalf("error is not errExporterConfig: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if cfg.MaxConcurrent < 1 || cfg.MaxConcurrent > maxMaxConcurrent || cfg.MaxQueued < 1 || cfg.MaxQueued > maxMaxQueued || len(cfg.Modules) == 0 {
			t.Fatalf("bounds not kept: %+v", cfg)
		}
		for name, m := range cfg.Modules {
			// Any target only when the config asks for it (the key may
			// also be false, or in a comment).
			if m.Allow.any && !strings.Contains(string(data), "allow_any_target") {
				t.Errorf("module %s allows any target, unasked", name)
			}
			if m.Timeout <= 0 || m.Timeout > maxModuleTimeout {
				t.Errorf("module %s: timeout %s", name, m.Timeout)
			}
		}
	})
}

package responder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A Config printed, encoded or logged never shows its token: it is a
// probe.Secret (secret.Secret), not a string. Nor does a Server made from
// it (its config is an unexported field, where fmt calls no String).
func TestConfigNeverPrintsToken(t *testing.T) {
	const token = "resp-t0ken-s3cret"
	cfg := Config{UDP: []Span{{3478, 3478}}, HTTP: ":8480", Token: token}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "token", cfg.Token, "server", srv)
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), fmt.Sprintf("%v %+v %#v", srv, srv, srv), string(b), logged.String()} {
		if strings.Contains(got, token) {
			t.Fatalf("the token leaked: %s", got)
		}
	}
	if !strings.Contains(string(b), "[redacted]") {
		t.Errorf("JSON %s: want the token as [redacted]", b)
	}
	if cfg.Token.Reveal() != token {
		t.Error("Reveal lost the token")
	}
}

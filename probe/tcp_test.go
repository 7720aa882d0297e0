package probe

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

func listenTCP(t *testing.T) (host string, port int) {
	return "127.0.0.1", probetest.AcceptingTCPListener(t)
}

func TestTCP(t *testing.T) {
	host, open := listenTCP(t)
	closed := probetest.ClosedTCPPort(t)
	tests := []struct {
		name   string
		port   int
		status Status
		class  ErrorClass
	}{
		{"listening", open, StatusPass, ClassNone},
		{"closed port answers RST", closed, StatusFail, ClassRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			spec := Spec{ID: "t", Kind: KindTCP, Host: host, Port: tt.port, Target: host + ":" + strconv.Itoa(tt.port)}
			res := TCP(ctx, spec, &Config{})
			if res.Status != tt.status || res.Class != tt.class {
				t.Fatalf("status %s class %q (%s), want %s %q", res.Status, res.Class, res.Error, tt.status, tt.class)
			}
			if res.Details.TCP == nil {
				t.Fatal("no TCP details")
			}
			if tt.status == StatusPass && res.Details.TCP.LocalAddr == "" {
				t.Error("no local address recorded")
			}
		})
	}
}

func TestTCPCanceledContext(t *testing.T) {
	host, port := listenTCP(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := TCP(ctx, Spec{Kind: KindTCP, Host: host, Port: port}, &Config{})
	if res.Class != ClassCanceled {
		t.Fatalf("class %q (%s), want canceled", res.Class, res.Error)
	}
}

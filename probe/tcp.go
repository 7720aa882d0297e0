package probe

import (
	"context"
	"net"
	"strconv"
	"time"
)

func init() {
	RegisterKind(KindInfo{Kind: KindTCP, Prober: TCP, PerAddress: true, PerPort: true, NeedsPort: true, Over: TransportTCP})
}

// TCPDetails is the evidence of a TCP connect.
type TCPDetails struct {
	ConnectMS float64 `json:"connect_ms"`
	LocalAddr string  `json:"local_addr,omitempty"`
}

// TCP connects to the spec's address and port and closes again.
func TCP(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	res.Transport = TransportTCP
	det := &TCPDetails{}
	res.Details.TCP = det
	start := time.Now()
	conn, err := dialTCP(ctx, spec, cfg)
	det.ConnectMS = ms(time.Since(start))
	if err != nil {
		res.Fail(Classify(err), err)
		return res
	}
	det.LocalAddr = conn.LocalAddr().String()
	_ = conn.Close()
	return res
}

// dialTCP connects within the run's TCP silence bound (see Clock.DialTCP).
func dialTCP(ctx context.Context, spec Spec, cfg *Config) (net.Conn, error) {
	return clockOf(cfg).DialTCP(ctx, "tcp", net.JoinHostPort(spec.DialHost(), strconv.Itoa(spec.Port)))
}

// clockOf is the config's clock (nil-safe: a nil Clock is an unmeasured path).
func clockOf(cfg *Config) *Clock {
	if cfg == nil {
		return nil
	}
	return cfg.Clock
}

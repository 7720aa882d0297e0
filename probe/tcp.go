package probe

import (
	"context"
	"net"
	"strconv"
	"time"
)

// TCPDetails is the evidence of a TCP connect.
type TCPDetails struct {
	ConnectMS float64 `json:"connect_ms"`
	LocalAddr string  `json:"local_addr,omitempty"`
}

// TCP connects to the spec's address and port and closes again.
func TCP(ctx context.Context, spec Spec, _ *Config) Result {
	res := NewResult(spec)
	res.Transport = TransportTCP
	det := &TCPDetails{}
	res.Details.TCP = det
	start := time.Now()
	conn, err := dialTCP(ctx, spec)
	det.ConnectMS = ms(time.Since(start))
	if err != nil {
		res.Fail(Classify(err), err)
		return res
	}
	det.LocalAddr = conn.LocalAddr().String()
	_ = conn.Close()
	return res
}

func dialTCP(ctx context.Context, spec Spec) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort(spec.DialHost(), strconv.Itoa(spec.Port)))
}

package probe

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// A server that answers from another address than the one asked: seen on
// an unconnected socket and flagged as asymmetric (multi-homed-server).
func TestSTUNAsymmetricReply(t *testing.T) {
	in, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		n, from, err := in.ReadFromUDP(buf)
		if err != nil {
			return
		}
		req := &stun.Message{Raw: buf[:n]}
		if req.Decode() != nil {
			return
		}
		resp := stun.MustBuild(req, stun.BindingSuccess, &stun.XORMappedAddress{IP: from.IP, Port: from.Port}, stun.Fingerprint)
		_, _ = out.WriteToUDP(resp.Raw, from)
	}()
	port := in.LocalAddr().(*net.UDPAddr).Port
	spec := Spec{ID: "stun", Kind: KindSTUN, Host: "127.0.0.1", Port: port}
	det := &STUNDetails{Server: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := stunUDP(ctx, spec, nil, det, stunUDPOptions{unconnected: true}); err != nil {
		t.Fatal(err)
	}
	<-done
	if !det.Asymmetric || det.ReplyFrom != out.LocalAddr().String() || det.Connected {
		t.Fatalf("%+v", det)
	}
}

func TestRetransmitSchedule(t *testing.T) {
	r := Retransmit{RTO: 100 * time.Millisecond, MaxRTO: 800 * time.Millisecond}
	want := []time.Duration{100, 200, 400, 800, 800}
	for i, w := range want {
		if got := r.next(i); got != w*time.Millisecond {
			t.Errorf("next(%d) = %s, want %s", i, got, w*time.Millisecond)
		}
	}
}

func TestValidSTUNServer(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"stun.example.com", true}, {"stun.example.com:3478", true}, {"192.0.2.1:19302", true}, {"[2001:db8::1]:3478", true}, {"2001:db8::1", true},
		{"stun.example.com:0", false}, {"stun.example.com:x", false}, {"", false}, {"a b:3478", false}, {"stun://x:3478", false}, {"host:3478:1", false},
	} {
		if err := ValidSTUNServer(tc.in); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.in, err)
		}
	}
}

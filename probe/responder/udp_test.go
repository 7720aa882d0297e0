package responder

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/stun/v4"
)

func TestAnswersComeFromTheProbedPort(t *testing.T) {
	base := freeBlock(t, 5)
	s := startServer(t, Config{UDP: []Span{{base, base + 4}}})
	c := newClient(t)
	probed := []int{base, base + 2, base + 4}
	for _, port := range probed {
		req := mustRequest(t, "sess-1", nil)
		c.send(port, req.Raw)
		b, from := c.recv()
		if int(from.Port()) != port {
			t.Errorf("answer to port %d came from port %d", port, from.Port())
		}
		if len(b) > len(req.Raw) {
			t.Errorf("answer %d bytes > request %d bytes", len(b), len(req.Raw))
		}
		m := decode(t, b)
		if m.Type != stun.BindingSuccess || m.TransactionID != req.TransactionID {
			t.Fatalf("answer %v, transaction mismatch %v", m.Type, m.TransactionID != req.TransactionID)
		}
		var xor stun.XORMappedAddress
		if err := xor.GetFrom(m); err != nil {
			t.Fatal(err)
		}
		if got := netip.AddrPortFrom(netip.MustParseAddr(xor.IP.String()), uint16(xor.Port)); got != c.addr() {
			t.Errorf("XOR-MAPPED-ADDRESS %s, want %s", got, c.addr())
		}
		if SessionOf(m) != "sess-1" {
			t.Errorf("session not echoed: %q", SessionOf(m))
		}
		if err := stun.Fingerprint.Check(m); err != nil {
			t.Errorf("fingerprint: %v", err)
		}
		if m.Contains(stun.AttrMessageIntegrity) {
			t.Errorf("MESSAGE-INTEGRITY without a token")
		}
	}
	r, ok := s.Receipt("sess-1")
	if !ok {
		t.Fatal("no receipt")
	}
	want := []Span{{base, base}, {base + 2, base + 2}, {base + 4, base + 4}}
	if !slices.Equal(r.Ports, want) || r.Received != 3 || r.Answered != 3 || r.RateLimited != 0 {
		t.Errorf("receipt %+v, want ports %v and 3/3/0", r, want)
	}
	if !slices.Equal(r.Clients, []string{loopback}) {
		t.Errorf("clients %v", r.Clients)
	}
	sum := s.Clients()
	if len(sum) != 1 || sum[0].IP != loopback || !slices.Equal(sum[0].Ports, want) || sum[0].Answered != 3 {
		t.Errorf("client summary %+v", sum)
	}
}

// Without AttrSession the responder is a plain STUN server (size-capped).
func TestPlainSTUNRequestAnswered(t *testing.T) {
	base := freeBlock(t, 1)
	s := startServer(t, Config{UDP: []Span{{base, base}}})
	c := newClient(t)
	// SOFTWARE makes the request as large as the answer, like a padded
	// client would (a bare request is refused: see the amplification test).
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware(strings.Repeat("x", 16)), stun.Fingerprint)
	c.send(base, req.Raw)
	b, _ := c.recv()
	m := decode(t, b)
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(m); err != nil || xor.Port != int(c.addr().Port()) {
		t.Errorf("XOR-MAPPED-ADDRESS %v, %v", xor, err)
	}
	if m.Contains(AttrSession) {
		t.Error("answer carries a session the request did not have")
	}
	if s.Clients()[0].Answered != 1 {
		t.Errorf("summary %+v", s.Clients())
	}
}

// The responder must never send more bytes than it received.
func TestNoAmplification(t *testing.T) {
	base := freeBlock(t, 1)
	s := startServer(t, Config{UDP: []Span{{base, base}}})
	unpadded := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.RawAttribute{Type: AttrSession, Value: []byte("abc")})
	tests := []struct {
		name   string
		req    *stun.Message
		answer bool
	}{
		{"bare 20-byte request", stun.MustBuild(stun.TransactionID, stun.BindingRequest), false},
		{"request with fingerprint only (28 bytes)", stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint), false},
		{"unpadded session request", unpadded, false},
		{"padded request (NewRequest)", mustRequest(t, "s", nil), true},
		{"padded request, longest session", mustRequest(t, strings.Repeat("z", MaxSessionLen), nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t)
			before := s.Stats()
			// Each would-be answer is computed the same way it would be sent.
			var sc scratch
			out, _ := s.answer(&sc, tt.req, c.addr(), SessionOf(tt.req))
			if fits := len(out) <= len(tt.req.Raw); fits != tt.answer {
				t.Fatalf("request %d bytes, answer %d bytes: fits %v, want %v", len(tt.req.Raw), len(out), fits, tt.answer)
			}
			c.send(base, tt.req.Raw)
			if tt.answer {
				b, _ := c.recv()
				if len(b) > len(tt.req.Raw) {
					t.Errorf("answered %d bytes to %d", len(b), len(tt.req.Raw))
				}
				return
			}
			c.expectFirstAnswerTo(base, mustRequest(t, "good", nil))
			if got := s.Stats().TooLarge - before.TooLarge; got != 1 {
				t.Errorf("TooLarge +%d, want +1", got)
			}
		})
	}
}

func TestToken(t *testing.T) {
	const token = "s3cret-token"
	base := freeBlock(t, 1)
	s := startServer(t, Config{UDP: []Span{{base, base}}, Token: token})
	c := newClient(t)

	req := mustRequest(t, "tok", Key(token))
	c.send(base, req.Raw)
	b, _ := c.recv()
	m := decode(t, b)
	if err := Key(token).Check(m); err != nil {
		t.Errorf("answer's MESSAGE-INTEGRITY does not verify: %v", err)
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		t.Errorf("fingerprint: %v", err)
	}

	silent := []struct {
		name string
		req  *stun.Message
	}{
		{"wrong key", mustRequest(t, "wrong", Key("other-token"))},
		{"no MESSAGE-INTEGRITY", mustRequest(t, "nomi", nil)},
		{"plain request", stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewSoftware(strings.Repeat("x", 64)), stun.Fingerprint)},
	}
	for _, tt := range silent {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t)
			before := s.Stats().Unauthenticated
			c.send(base, tt.req.Raw)
			c.expectFirstAnswerTo(base, mustRequest(t, "tok", Key(token)))
			if got := s.Stats().Unauthenticated - before; got != 1 {
				t.Errorf("Unauthenticated +%d, want +1", got)
			}
			if sess := SessionOf(tt.req); sess != "" {
				if _, ok := s.Receipt(sess); ok {
					t.Errorf("an unauthenticated probe created session %q", sess)
				}
			}
		})
	}
}

// Counts, not timings: a per-source rate of almost nothing leaves exactly
// the burst answered.
func TestRateLimit(t *testing.T) {
	base := freeBlock(t, 1)
	const burst, sent = 5, 20
	s := startServer(t, Config{UDP: []Span{{base, base}}, Rate: RateLimits{PerSource: 1e-6, PerSourceBurst: burst, Global: -1}})
	c := newClient(t)
	for i := 0; i < sent; i++ {
		c.send(base, mustRequest(t, "rl", nil).Raw)
	}
	st := waitPackets(t, s, sent)
	if st.Answered != burst || st.RateLimited != sent-burst {
		t.Errorf("answered %d, rate-limited %d; want %d and %d", st.Answered, st.RateLimited, burst, sent-burst)
	}
	r, _ := s.Receipt("rl")
	if r.Received != sent || r.Answered != burst || r.RateLimited != sent-burst {
		t.Errorf("receipt %+v: the rate-limited probes must still be filed", r)
	}
}

// Each source address has its own bucket (a unit test: the socket tests
// have only 127.0.0.1 to send from).
func TestRateLimitPerSource(t *testing.T) {
	l := newLimiter(RateLimits{PerSource: 1e-6, PerSourceBurst: 2, Global: -1}, 2)
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	got := []bool{l.allow(a), l.allow(a), l.allow(a), l.allow(b), l.allow(b), l.allow(b)}
	if want := []bool{true, true, false, true, true, false}; !slices.Equal(got, want) {
		t.Errorf("allow %v, want %v", got, want)
	}
	l.allow(c) // evicts a, the least recently used: the table stays bounded
	if l.sources.len() != 2 {
		t.Errorf("%d sources kept, bound 2", l.sources.len())
	}
}

func TestGlobalRateLimit(t *testing.T) {
	base := freeBlock(t, 1)
	// Global burst is at least the per-source burst: 3.
	s := startServer(t, Config{UDP: []Span{{base, base}}, Rate: RateLimits{PerSource: -1, PerSourceBurst: 3, Global: 1e-6}})
	for i := 0; i < 3; i++ {
		c := newClient(t)
		c.send(base, mustRequest(t, "g", nil).Raw)
		c.send(base, mustRequest(t, "g", nil).Raw)
	}
	st := waitPackets(t, s, 6)
	if st.Answered != 3 || st.RateLimited != 3 {
		t.Errorf("answered %d, rate-limited %d; want 3 and 3", st.Answered, st.RateLimited)
	}
}

func TestMalformedCounted(t *testing.T) {
	base := freeBlock(t, 1)
	s := startServer(t, Config{UDP: []Span{{base, base}}})
	good := mustRequest(t, "m", nil)
	badFP := mustRequest(t, "m", nil)
	badFP.Raw = append([]byte(nil), badFP.Raw...)
	badFP.Raw[len(badFP.Raw)-1] ^= 0xff
	badSession := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.RawAttribute{Type: AttrSession, Value: []byte("a/b")}, stun.NewSoftware(strings.Repeat("x", 64)))
	tests := []struct {
		name  string
		b     []byte
		field func(Stats) uint64
	}{
		{"empty", []byte{}, func(s Stats) uint64 { return s.Malformed }},
		{"not STUN", []byte("GET / HTTP/1.1\r\n\r\n"), func(s Stats) uint64 { return s.Malformed }},
		{"truncated", good.Raw[:len(good.Raw)-5], func(s Stats) uint64 { return s.Malformed }},
		{"bad fingerprint", badFP.Raw, func(s Stats) uint64 { return s.Malformed }},
		{"bad session id", badSession.Raw, func(s Stats) uint64 { return s.Malformed }},
		{"binding indication", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodBinding, stun.ClassIndication), stun.NewSoftware(strings.Repeat("x", 64))).Raw, func(s Stats) uint64 { return s.NotBinding }},
		{"allocate request", stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), stun.NewSoftware(strings.Repeat("x", 64))).Raw, func(s Stats) uint64 { return s.NotBinding }},
		{"binding success", stun.MustBuild(stun.TransactionID, stun.BindingSuccess, stun.NewSoftware(strings.Repeat("x", 64))).Raw, func(s Stats) uint64 { return s.NotBinding }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t)
			before := tt.field(s.Stats())
			c.send(base, tt.b)
			c.expectFirstAnswerTo(base, mustRequest(t, "m", nil))
			if got := tt.field(s.Stats()) - before; got != 1 {
				t.Errorf("counter +%d, want +1", got)
			}
		})
	}
}

func TestPortInUse(t *testing.T) {
	base := freeBlock(t, 3)
	busyUDP, err := net.ListenPacket("udp", net.JoinHostPort(loopback, strconv.Itoa(base+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer busyUDP.Close()
	busyTCP, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(base+2)))
	if err != nil {
		t.Fatal(err)
	}
	defer busyTCP.Close()
	s := startServer(t, Config{UDP: []Span{{base, base + 2}}, TCP: []int{base, base + 2}})
	info := s.Info()
	if !slices.Equal(info.UDPFailed, []Span{{base + 1, base + 1}}) || !slices.Equal(info.TCPFailed, []int{base + 2}) {
		t.Errorf("failed UDP %v TCP %v", info.UDPFailed, info.TCPFailed)
	}
	c := newClient(t)
	for _, port := range []int{base, base + 2} {
		c.send(port, mustRequest(t, "busy", nil).Raw)
		if _, from := c.recv(); int(from.Port()) != port {
			t.Errorf("answer from %d, want %d", from.Port(), port)
		}
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(loopback, strconv.Itoa(base)))
	if err != nil {
		t.Fatalf("TCP %d: %v", base, err)
	}
	conn.Close()
}

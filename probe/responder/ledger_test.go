package responder

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestSessionsBoundedAndExpire(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLedger(2, 2, 10*time.Minute)
	l.now = func() time.Time { return now }
	ip := netip.MustParseAddr("192.0.2.1")
	l.record("a", ip, 1000, answered)
	l.record("b", ip, 1001, answered)
	l.record("a", ip, 1002, rateLimited) // a is now the most recent
	l.record("c", ip, 1003, answered)    // evicts b, the oldest
	if _, ok := l.receipt("b"); ok {
		t.Error("b not evicted")
	}
	r, ok := l.receipt("a")
	if !ok || r.Received != 2 || r.Answered != 1 || r.RateLimited != 1 || !slices.Equal(r.Ports, []Span{{1000, 1000}, {1002, 1002}}) {
		t.Errorf("a: %+v %v", r, ok)
	}
	now = now.Add(11 * time.Minute)
	if _, ok := l.receipt("a"); ok {
		t.Error("a did not expire")
	}
	if l.sessions.len() != 0 {
		t.Errorf("%d sessions left after expiry", l.sessions.len())
	}
}

func TestReceiptClientsCapped(t *testing.T) {
	l := newLedger(4, 100, time.Minute)
	for i := 0; i < 50; i++ {
		l.record("nat", netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 5000, answered)
	}
	r, _ := l.receipt("nat")
	if len(r.Clients) != maxReceiptClients || r.Received != 50 {
		t.Errorf("%d clients, %d received", len(r.Clients), r.Received)
	}
	if n := len(l.summary()); n != 50 {
		t.Errorf("summary has %d clients", n)
	}
}

func TestPortSetSpans(t *testing.T) {
	tests := []struct {
		ports []int
		want  []Span
	}{
		{nil, nil},
		{[]int{0}, []Span{{0, 0}}},
		{[]int{65535}, []Span{{65535, 65535}}},
		{[]int{63, 64, 65}, []Span{{63, 65}}},
		{[]int{1, 3, 4, 5, 200}, []Span{{1, 1}, {3, 5}, {200, 200}}},
	}
	for _, tt := range tests {
		var s portSet
		for _, p := range tt.ports {
			s.add(uint16(p))
		}
		if got := s.spans(); !slices.Equal(got, tt.want) {
			t.Errorf("%v: %v, want %v", tt.ports, got, tt.want)
		}
		if !slices.Equal(toSpans(tt.ports), tt.want) {
			t.Errorf("toSpans(%v) = %v", tt.ports, toSpans(tt.ports))
		}
	}
	var all portSet
	for p := 30000; p <= 33000; p++ {
		all.add(uint16(p))
	}
	if got := all.spans(); !slices.Equal(got, []Span{{30000, 33000}}) || all.count() != 3001 {
		t.Errorf("range: %v, %d", got, all.count())
	}
	if FormatSpans([]Span{{30000, 33000}, {3478, 3478}}) != "30000-33000,3478" {
		t.Error(FormatSpans([]Span{{30000, 33000}, {3478, 3478}}))
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"nothing", Config{}},
		{"reversed", Config{UDP: []Span{{200, 100}}}},
		{"zero", Config{UDP: []Span{{0, 10}}}},
		{"too high", Config{UDP: []Span{{65000, 65536}}}},
		{"overlap", Config{UDP: []Span{{100, 200}, {150, 300}}}},
		{"tcp out of range", Config{TCP: []int{70000}}},
		{"tcp twice", Config{TCP: []int{80, 80}}},
		{"listen not an IP", Config{TCP: []int{80}, Listen: "example.com"}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", tt.name, err)
		}
	}
}

package responder

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestSessionsBoundedAndExpire(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLedger(2, 2, 2, 10*time.Minute)
	l.now = func() time.Time { return now }
	ip := netip.MustParseAddr("192.0.2.1")
	l.record("a", ip, 1000, answered)
	l.record("b", ip, 1001, answered)
	l.record("a", ip, 1002, rateLimited) // a is now the most recent
	l.record("c", ip, 1003, answered)    // evicts b, the oldest
	if _, st := l.receipt("b"); st != receiptEvicted {
		t.Errorf("b: state %d, want evicted", st)
	}
	r, st := l.receipt("a")
	ok := st == receiptFound
	if !ok || r.Received != 2 || r.Answered != 1 || r.RateLimited != 1 || !slices.Equal(r.Ports, []Span{{1000, 1000}, {1002, 1002}}) {
		t.Errorf("a: %+v %v", r, ok)
	}
	now = now.Add(11 * time.Minute)
	if _, st := l.receipt("a"); st != receiptUnknown {
		t.Errorf("a: state %d after its TTL, want unknown", st)
	}
	if l.sessions.len() != 0 {
		t.Errorf("%d sessions left after expiry", l.sessions.len())
	}
}

func TestReceiptClientsCapped(t *testing.T) {
	l := newLedger(4, 4, 100, time.Minute)
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

// A stranger flooding new session ids (rate-limited or not) from one
// source, or from many addresses of one IPv6 /64, replaces only its own
// sessions: the real client's receipt stays, and every eviction counts.
func TestStrangerCannotEvictReceipts(t *testing.T) {
	const slots, share = 1024, 8
	client := netip.MustParseAddr("192.0.2.7")
	for _, tc := range []struct {
		name     string
		stranger func(i int) netip.Addr
	}{
		{"one IPv4 address", func(int) netip.Addr { return netip.MustParseAddr("198.51.100.9") }},
		{"rotating through one IPv6 /64", func(i int) netip.Addr {
			return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLedger(slots, slots/share, 16, time.Hour)
			l.record("real", client, 30000, answered)
			for i := range 2200 {
				o := answered
				if i%2 == 1 {
					o = rateLimited
				}
				l.record(fmt.Sprintf("s-%d", i), tc.stranger(i), 30001, o)
			}
			if _, st := l.receipt("real"); st != receiptFound {
				t.Fatalf("the client's receipt is gone (state %d) after a stranger's 2,200 sessions", st)
			}
			held := l.sessions.len() - 1
			total, quota := l.evictions()
			t.Logf("stranger holds %d of %d slots; %d evictions, all of its own", held, slots, total)
			if held != slots/share {
				t.Errorf("stranger holds %d sessions, want its share %d", held, slots/share)
			}
			// 1,100 answered probes created sessions, 128 stay: 972 replaced.
			if total != 1100-slots/share || quota != total {
				t.Errorf("evictions %d (own quota %d), want %d", total, quota, 1100-slots/share)
			}
		})
	}
}

// Sources beyond their share still fill the table; then the least
// recently used session goes, and the client hears it was evicted.
func TestEvictedSessionIsNamed(t *testing.T) {
	l := newLedger(4, 2, 16, time.Hour)
	for i := range 6 {
		l.record(fmt.Sprintf("s-%d", i), netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 30000, answered)
	}
	if _, st := l.receipt("s-0"); st != receiptEvicted {
		t.Errorf("s-0: state %d, want evicted", st)
	}
	if _, st := l.receipt("never"); st != receiptUnknown {
		t.Errorf("never: state %d, want unknown", st)
	}
	if total, quota := l.evictions(); total != 2 || quota != 0 {
		t.Errorf("evictions %d/%d, want 2/0", total, quota)
	}
	if len(l.owned) != 4 {
		t.Errorf("%d owners tracked for 4 sessions", len(l.owned))
	}
}

func TestSourceKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
	} {
		if got := sourceKey(netip.MustParseAddr(tc.in)).String(); got != tc.want {
			t.Errorf("sourceKey(%s) = %s, want %s", tc.in, got, tc.want)
		}
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

package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
)

// recordingResolver answers every name with addrs (or err) and records
// what it was asked, so a test sees whether it was consulted at all.
type recordingResolver struct {
	addrs []netip.Addr
	err   error
	asked []string
}

func (r *recordingResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.asked = append(r.asked, network+" "+host)
	return r.addrs, r.err
}

// resolveUDP (STUN, SIP and TURN over UDP, the self relay, the UDP sweep)
// looks names up with the configured resolver: a made-up name only the
// fake knows resolves, and real DNS is never asked (it once called
// net.DefaultResolver and bypassed cfg.Resolver).
func TestResolveUDPUsesConfiguredResolver(t *testing.T) {
	const name = "turn.ucprobe.invalid" // .invalid never resolves in real DNS (RFC 6761)
	errFake := errors.New("fake resolver: SERVFAIL")
	for _, tc := range []struct {
		name  string
		host  string
		addrs []string
		err   error
		want  string // "": an error
		asked []string
	}{
		{"made-up name from the fake", name, []string{"127.0.0.1"}, nil, "127.0.0.1:3478", []string{"ip " + name}},
		{"first answer, unmapped", name, []string{"::ffff:127.0.0.2", "127.0.0.3"}, nil, "127.0.0.2:3478", []string{"ip " + name}},
		{"no answer is not found", name, nil, nil, "", []string{"ip " + name}},
		{"the fake's error", name, nil, errFake, "", []string{"ip " + name}},
		{"a literal needs no lookup", "127.0.0.9", []string{"127.0.0.1"}, nil, "127.0.0.9:3478", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recordingResolver{err: tc.err}
			for _, a := range tc.addrs {
				r.addrs = append(r.addrs, netip.MustParseAddr(a))
			}
			got, err := resolveUDP(context.Background(), &Config{Resolver: r}, Spec{Host: tc.host, Port: 3478})
			if !slices.Equal(r.asked, tc.asked) {
				t.Errorf("asked %q, want %q", r.asked, tc.asked)
			}
			switch {
			case tc.want != "" && (err != nil || got.String() != tc.want):
				t.Errorf("got %v err %v, want %s", got, err, tc.want)
			case tc.want == "" && err == nil:
				t.Errorf("got %v, want an error", got)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("err %v, want the fake's %v", err, tc.err)
			}
			var dnsErr *net.DNSError
			if tc.want == "" && tc.err == nil && (!errors.As(err, &dnsErr) || !dnsErr.IsNotFound) {
				t.Errorf("err %v, want not found", err)
			}
		})
	}
}

// resolverOf: the configured resolver, else the system's (a nil Config
// included: the DNS check's lookups may run without one).
func TestResolverOf(t *testing.T) {
	fake := &recordingResolver{}
	for _, tc := range []struct {
		name string
		cfg  *Config
		want Resolver
	}{
		{"nil config", nil, net.DefaultResolver},
		{"none configured", &Config{}, net.DefaultResolver},
		{"configured", &Config{Resolver: fake}, fake},
	} {
		if got := ResolverOf(tc.cfg); got != tc.want {
			t.Errorf("%s: resolver %T %p, want %T %p", tc.name, got, got, tc.want, tc.want)
		}
	}
}

package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

func init() { RegisterKind(KindInfo{Kind: KindDNS, Prober: DNS, NoReach: true, MinNeed: minDNSNeed}) }

// DNSDetails is the evidence of resolving one name.
type DNSDetails struct {
	Name string   `json:"name"`
	A    []string `json:"a"`
	AAAA []string `json:"aaaa"`
	// NotFound is true when the resolver said the name does not exist
	// (NXDOMAIN), as opposed to a resolver that failed or did not answer.
	NotFound bool    `json:"not_found,omitempty"`
	AMS      float64 `json:"a_ms"`
	AAAAMS   float64 `json:"aaaa_ms"`
}

// Addresses are all answers, A first.
func (d *DNSDetails) Addresses() []string { return append(append([]string{}, d.A...), d.AAAA...) }

// DNS resolves a name's A and AAAA records in parallel, timing each.
func DNS(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	res.Kind = KindDNS
	det := &DNSDetails{Name: spec.Host, A: []string{}, AAAA: []string{}}
	res.Details.DNS = det
	var res4 resolved
	var res6 resolved
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); res4 = lookup(ctx, cfg, "ip4", spec.Host) }()
	go func() { defer wg.Done(); res6 = lookup(ctx, cfg, "ip6", spec.Host) }()
	wg.Wait()
	det.AMS, det.AAAAMS = ms(res4.took), ms(res6.took)
	det.A, det.AAAA = res4.addrs, res6.addrs
	if len(det.A)+len(det.AAAA) > 0 {
		return res
	}
	// Both families failed: report the more telling error. A name that
	// exists but has no record of one family says "no such host" for it.
	err := res4.err
	if err == nil || (isNotFound(err) && res6.err != nil && !isNotFound(res6.err)) {
		err = res6.err
	}
	if err == nil {
		err = errors.New("no A or AAAA records")
	}
	det.NotFound = isNotFound(res4.err) && isNotFound(res6.err)
	class := ClassDNS
	if c := Classify(err); c == ClassCanceled {
		class = c
	}
	res.Fail(class, err)
	return res
}

type resolved struct {
	addrs []string
	took  time.Duration
	err   error
}

func lookup(ctx context.Context, cfg *Config, network, host string) resolved {
	start := time.Now()
	ips, err := ResolverOf(cfg).LookupNetIP(ctx, network, host)
	out := resolved{took: time.Since(start), err: err, addrs: []string{}}
	for _, ip := range ips {
		out.addrs = append(out.addrs, ip.Unmap().String())
	}
	return out
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// resolveAll resolves every distinct name of the plan in parallel and
// returns the DNS results (id "dns:NAME") and the addresses per name.
func (r *Runner) resolveAll(ctx context.Context, specs []Spec, cfg *Config) ([]Result, map[string][]string) {
	var names []string
	seen := map[string]bool{}
	for _, s := range specs {
		if s.Host == "" || s.Skip != "" || seen[s.Host] {
			continue
		}
		if _, err := netip.ParseAddr(s.Host); err == nil {
			continue
		}
		seen[s.Host] = true
		names = append(names, s.Host)
	}
	// A lookup gets at most 3 s (a resolver retrying past that is
	// broken for any client) and at most 40 % of what the run has left:
	// the checks behind it need the rest.
	timeout := r.DNSTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)*2/5 < timeout {
		// The share is the run's, not a bound of DNS: a lookup it ends
		// was cut short (the runner keeps its margin off this deadline).
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)*2/5+r.margin()))
		defer cancel()
	}
	results := make([]Result, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := Spec{ID: "dns:" + name, Kind: KindDNS, Target: name, Host: name, Timeout: timeout}
			results[i] = r.runOne(ctx, spec, cfg)
		}()
	}
	wg.Wait()
	addrs := map[string][]string{}
	for i, name := range names {
		if d := results[i].Details.DNS; d != nil && results[i].Status == StatusPass {
			addrs[name] = d.Addresses()
		} else if results[i].Class == ClassCanceled {
			addrs[name] = nil // cut short: the checks on this name are too
		}
	}
	return results, addrs
}

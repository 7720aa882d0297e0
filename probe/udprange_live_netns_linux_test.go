//go:build linux

package probe

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/ucprobe/ucprobe/probe/probetest"
)

// stunFarEnd answers STUN Binding requests on ip, ports first..last
// except those skip says (nothing listens there: ICMP port unreachable).
// answer decides per request whether to answer (a rate limit).
func stunFarEnd(t *testing.T, ip string, first, last int, skip func(int) bool, answer func() bool) {
	t.Helper()
	var wg sync.WaitGroup
	var conns []net.PacketConn
	for p := first; p <= last; p++ {
		if skip != nil && skip(p) {
			continue
		}
		c, err := net.ListenPacket("udp4", fmt.Sprintf("%s:%d", ip, p))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				n, from, err := c.ReadFrom(buf)
				if err != nil {
					return
				}
				req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
				if req.Decode() != nil || (answer != nil && !answer()) {
					continue
				}
				ua := from.(*net.UDPAddr)
				resp := stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
					&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.Fingerprint)
				_, _ = c.WriteTo(resp.Raw, from)
			}
		}()
	}
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
		wg.Wait()
	})
}

// Live sampling (no responder) against a far end that answers STUN on its
// media range 30000-30199, in a namespace of its own with nft faults:
// a dropped sub-range is named exactly (the refinement finds its edges),
// a far end that answers only every third request is never a block,
// silence everywhere stays inconclusive, and ICMP port unreachable counts
// as reached. The sample stays within its packet budget.
func TestUDPRangeLiveNetns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		drop    string // nft input rule
		skip    func(int) bool
		limited bool
		status  Status
		verdict LiveVerdict
		blocked string
	}{
		{"30100-30149 filtered", "udp dport 30100-30149 drop", nil, false, StatusFail, LiveBlocked, "[30100-30149 filtered]"},
		{"rate-limited far end", "", nil, true, StatusWarn, LiveScattered, "[]"},
		{"everything filtered", "udp dport 30000-30199 drop", nil, false, StatusWarn, LiveSilent, "[]"},
		{"no listener on 30150-30199 (ICMP)", "", func(p int) bool { return p >= 30150 }, false, StatusPass, LiveReached, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := testNetns(t)
			if tc.drop != "" {
				probetest.NsNft(t, ns, "table inet live {\n chain in {\n  type filter hook input priority 0; policy accept;\n  ip daddr 127.0.0.2 "+tc.drop+"\n }\n}\n")
			}
			var res Result
			inNetns(t, ns, func() {
				var n atomic.Int64
				var answer func() bool
				if tc.limited {
					answer = func() bool { return n.Add(1)%3 == 0 }
				}
				stunFarEnd(t, "127.0.0.2", 30000, 30199, tc.skip, answer)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				spec := Spec{ID: "media-range", Kind: KindUDPRange, Host: "127.0.0.2", Ranges: []PortRange{{First: 30000, Last: 30199}}, NeedsResponder: true}
				res = UDPRange(ctx, spec, &Config{})
			})
			d := res.Details.UDPRange
			if d == nil || d.Live == nil {
				t.Fatalf("no live judgement: %+v", res)
			}
			var b []string
			for _, r := range d.Live.Blocked {
				b = append(b, r.Range.String()+" "+r.State)
			}
			if res.Status != tc.status || d.Live.Verdict != tc.verdict || fmt.Sprint(b) != tc.blocked {
				t.Fatalf("status %s verdict %s blocked %v (%s; reached %d of %d, sent %d, rounds %d); sub-ranges %v",
					res.Status, d.Live.Verdict, b, res.Error, d.Live.Reached, d.Ports, d.Sent, d.Rounds, d.SubRanges)
			}
			if d.Sent > liveBudget || !d.Sampled {
				t.Fatalf("sent %d packets (budget %d), sampled %v", d.Sent, liveBudget, d.Sampled)
			}
		})
	}
}

package probe_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// A receipt the responder no longer holds, although it answered the
// sweep's probes (evicted: 410; forgotten after a restart: 404), is no
// evidence about the inbound path: the sweep says so and judges without
// receipts. The UDP side is a real responder; its control endpoint is
// stood in for, to say "gone" deterministically.
func TestUDPRangeReceiptLost(t *testing.T) {
	ip := probetest.LoopbackIP(t)
	base := freeUDPBlock(t, ip, 10)
	srv, _ := startResponder(t, ip, base, base+9, "")
	for _, tc := range []struct {
		name string
		code int
		body any
		want string
	}{
		{"evicted", http.StatusGone, responder.ReceiptGone{Evicted: true, Error: "dropped"}, "dropped this sweep's receipt to make room"},
		{"forgotten", http.StatusNotFound, map[string]string{"error": "no probes"}, "no longer knows its session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == responder.PathInfo {
					info := srv.Info()
					info.SessionsEvicted = 7
					_ = json.NewEncoder(w).Encode(info)
					return
				}
				w.WriteHeader(tc.code)
				_ = json.NewEncoder(w).Encode(tc.body)
			}))
			// On the sweep's target: receipts come only from there.
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
			if err != nil {
				t.Fatal(err)
			}
			fake.Listener.Close()
			fake.Listener = ln
			fake.StartTLS()
			defer fake.Close()
			res, d := runSweep(t, sweepSpec(ip, base, base+9), &probe.Config{Responder: ln.Addr().String()})
			if !d.ReceiptLost || d.Receipts || !strings.Contains(d.ReceiptsError, tc.want) {
				t.Errorf("receipt_lost %v, receipts %v, error %q; want lost and %q", d.ReceiptLost, d.Receipts, d.ReceiptsError, tc.want)
			}
			if d.Open != 10 || res.Status != probe.StatusPass {
				t.Errorf("status %s, %d open: the answers still count", res.Status, d.Open)
			}
		})
	}
}

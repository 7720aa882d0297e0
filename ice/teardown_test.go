package ice

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// TestBoundedNetCutsAtDeadline: the deadline of the agent's context cuts
// its TURN transports (so a permission transaction holding pion's task
// loop fails instead of waiting out its round trip) and seals the log; a
// cancel (the agent closing in time) cuts nothing, so allocations are
// released as usual, and neither does the deadline of an agent that is not
// a check's (a responder session that timed out releases its own).
func TestBoundedNetCutsAtDeadline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline bool // else canceled
		check    bool
		cutWant  bool
	}{{"check's deadline", true, true, true}, {"check canceled", false, true, false}, {"responder session's deadline", true, false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			if tc.deadline {
				ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
			}
			defer cancel()
			glog := &gatherLog{}
			n, err := newBoundedNet(ctx, time.Second, nil, tc.check, glog.seal)
			if err != nil {
				t.Fatal(err)
			}
			pc, err := n.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			if !tc.deadline {
				cancel()
			}
			<-ctx.Done()
			n.endWatch() // the watch has run (or never will) once this returns
			_, err = pc.WriteTo([]byte("x"), pc.LocalAddr())
			if cut := errors.Is(err, net.ErrClosed); cut != tc.cutWant {
				t.Errorf("transport closed = %v (write: %v), want %v", cut, err, tc.cutWant)
			}
			glog.add("a line after the end")
			if sealed := len(glog.snapshot()) == 0; sealed != tc.cutWant {
				t.Errorf("log sealed = %v, want %v", sealed, tc.cutWant)
			}
			if tc.cutWant {
				late, err := n.ListenPacket("udp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := late.WriteTo([]byte("x"), late.LocalAddr()); !errors.Is(err, net.ErrClosed) {
					t.Errorf("a transport opened after the cut stays open: %v", err)
				}
			}
		})
	}
}

// TestConnectError: what the deadline's end of ICE says, by what the
// statistics show and how long the checks ran.
func TestConnectError(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	clock := &probe.Clock{} // no sample: the initial RTO, silence after 7 of them
	pairs := func(answered, total int) []probe.ICEPair {
		ps := make([]probe.ICEPair, total)
		for i := range answered {
			ps[i].ResponsesReceived = 1
		}
		return ps
	}
	long := clock.UDPSilence() + time.Second
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		pairs   []probe.ICEPair
		fresh   bool
		checked time.Duration
		partial bool // a partial result (ErrCutAfterAnswer), not a failure
		class   probe.ErrorClass
		says    string
	}{
		{"answers, cut by the deadline", ended, pairs(3, 8), true, long, true, probe.ClassCanceled, "3 of 8 pairs had answered"},
		{"no answer within a short check", ended, pairs(0, 8), true, 300 * time.Millisecond, true, probe.ClassCanceled, "before its 8 pairs could be answered"},
		{"no answer after the silence bound", ended, pairs(0, 8), true, long, false, probe.ClassTimeout, "all 8 candidate pairs timed out"},
		{"agent still busy: statistics unknown", ended, pairs(0, 8), false, long, true, probe.ClassCanceled, "could not be read in time"},
		{"no pair before the deadline", ended, nil, true, long, false, probe.ClassCanceled, "deadline ended ICE before it concluded"},
		{"ICE gave up by itself", live, pairs(0, 8), true, long, false, probe.ClassTimeout, "all 8 candidate pairs timed out"},
		{"answers but nothing selected", live, pairs(2, 8), true, long, false, probe.ClassProtocol, "2 of 8 pairs answered but none was selected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			det := &probe.ICEDetails{Pairs: tc.pairs}
			err := (&Checker{}).connectError(tc.ctx, det, tc.fresh, tc.checked, clock)
			if partial := errors.Is(err, probe.ErrCutAfterAnswer); partial != tc.partial {
				t.Errorf("partial = %v, want %v (%v)", partial, tc.partial, err)
			}
			if got := classOf(err); got != tc.class {
				t.Errorf("class %s, want %s (%v)", got, tc.class, err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

// TestStatsAllowance: on a path nothing measured yet, the last statistics
// still get statsGrace past the working deadline (an idle agent's last
// snapshot takes well under a millisecond), so a deadline that cut ICE on
// a fast path reads its real counters and can name ice-failed.
func TestStatsAllowance(t *testing.T) {
	end, cancelEnd := context.WithTimeout(context.Background(), time.Hour)
	defer cancelEnd()
	ctx, cancel := working(end, &probe.Clock{})
	defer cancel()
	dl, _ := ctx.Deadline()
	if got := statsBy(ctx).Sub(dl); got != statsGrace {
		t.Errorf("statistics allowed %v past the working deadline, want %v", got, statsGrace)
	}
}

// TestFinishPrefersTheSnapshot: a last snapshot that is in counts as fresh
// even when its allowance has passed (both ready: the snapshot wins); one
// still out does not.
func TestFinishPrefersTheSnapshot(t *testing.T) {
	for _, in := range []bool{true, false} {
		w := &watcher{stop: make(chan struct{}), done: make(chan struct{}), failed: make(chan struct{})}
		if in {
			close(w.done)
		}
		if _, fresh := w.finish(time.Now().Add(-time.Second)); fresh != in {
			t.Errorf("snapshot in = %v: fresh = %v", in, fresh)
		}
	}
}

// TestTwoEndedCutWhileAnswering: the responder's offer came back, then the
// run's deadline ended the check while our answer was on its way (a slow
// path): a partial result, not a signalling failure.
func TestTwoEndedCutWhileAnswering(t *testing.T) {
	r, err := NewResponderHandler(ResponderConfig{Token: testToken, IPFilter: loopbackOnly, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/v1/ice/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/answer") {
			select { // the answer never arrives in time
			case <-hold:
			case <-req.Context().Done():
			}
			return
		}
		r.ServeHTTP(w, req)
	}))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(func() { close(hold); srv.Close(); r.Close() })
	addr := strings.TrimPrefix(srv.URL, "https://")
	pins.Store(addr, responder.Fingerprint(srv.Certificate().Raw))
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
	cfg := pinned(&probe.Config{Responder: addr, ResponderToken: testToken, Media: time.Second})
	res := runCheck(t, loopbackChecker(), spec, cfg, 1500*time.Millisecond)
	if res.Status != probe.StatusWarn || res.Class != probe.ClassCanceled || !strings.Contains(res.Error, probe.ErrCutAfterAnswer.Error()) {
		t.Fatalf("status %s class %q (%s), want a partial warn cut after the offer came back", res.Status, res.Class, res.Error)
	}
	if s := res.Details.ICE.Signalling; s == nil || s.Stage != probe.StageAnswer {
		t.Errorf("signalling %+v, want stage answer", s)
	}
}

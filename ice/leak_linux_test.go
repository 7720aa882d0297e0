package ice

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
)

// TestResponderNoLeaks runs many ICE sessions against one responder, the
// ways they end in the field (a full two-ended check, an answer whose
// candidates never answer, an offer deleted unanswered, an offer left to
// its timeout, refusals), and checks that every goroutine and every file
// descriptor they took is given back.
func TestResponderNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("many sessions: not in -short")
	}
	t.Cleanup(test.CheckRoutines(t))
	r, addr := startResponder(t, ResponderConfig{MaxSessions: 16, MaxSessionsPerSource: 16, SessionTimeout: 2 * time.Second})
	tok := testToken.Reveal()
	baseline := probetest.OpenFDs(t)
	spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
	for range 5 {
		res := runCheck(t, loopbackChecker(), spec, pinned(&probe.Config{Responder: addr}), 10*time.Second)
		if res.Status != probe.StatusPass {
			t.Fatalf("two-ended check: %s %s: %s", res.Status, res.Class, res.Error)
		}
	}
	v := newVictims(t, 2)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A full responder says 503: the client tries again.
			code, o, _ := signal(t, addr, "/v1/ice/sessions", tok, struct{}{})
			for try := 0; code == http.StatusServiceUnavailable && try < 200; try++ {
				time.Sleep(50 * time.Millisecond)
				code, o, _ = signal(t, addr, "/v1/ice/sessions", tok, struct{}{})
			}
			if code != http.StatusCreated {
				t.Errorf("offer %d: HTTP %d", i, code)
				return
			}
			switch i % 4 {
			case 0: // candidates that never answer: ICE fails, the session ends
				signal(t, addr, "/v1/ice/sessions/"+o.Session+"/answer", tok, Answer{Ufrag: "abcd", Pwd: "abcdefghijklmnopqrstuvwx", Candidates: v.candidates(0)})
			case 1: // the client deletes it
				req, _ := http.NewRequest(http.MethodDelete, "https://"+addr+"/v1/ice/sessions/"+o.Session, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if resp, err := insecureClient().Do(req); err == nil {
					resp.Body.Close()
				}
			case 2: // a broken answer
				signal(t, addr, "/v1/ice/sessions/"+o.Session+"/answer", tok, map[string]any{"ufrag": 1})
			case 3: // left to its timeout
			}
		}()
	}
	wg.Wait()
	waitNoSessions(t, r, 15*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	insecureClient().CloseIdleConnections()
	// The responder's own sockets are closed by now; allow a few for the
	// test's HTTP connections that the server has not reaped yet.
	var now int
	probetest.Eventually(time.Until(deadline), func() bool { now = probetest.OpenFDs(t); return now <= baseline+4 })
	t.Logf("45 sessions: %d file descriptors before, %d after", baseline, now)
	if now > baseline+4 {
		t.Errorf("%d file descriptors before the sessions, %d after", baseline, now)
	}
}

package ice

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
)

// victims are UDP sockets on loopback that count what reaches them and
// never answer: the third parties a hostile answer would aim checks at.
type victims struct {
	conns   []*net.UDPConn
	packets []atomic.Int64
	bytes   atomic.Int64
	wg      sync.WaitGroup
}

func newVictims(t *testing.T, n int) *victims {
	t.Helper()
	v := &victims{packets: make([]atomic.Int64, n)}
	for i := range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9)})
		if err != nil {
			t.Fatal(err)
		}
		v.conns = append(v.conns, c)
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			buf := make([]byte, 2048)
			for {
				k, _, err := c.ReadFromUDP(buf)
				if err != nil {
					return
				}
				v.packets[i].Add(1)
				v.bytes.Add(int64(k))
			}
		}()
	}
	t.Cleanup(v.close)
	return v
}

func (v *victims) close() {
	for _, c := range v.conns {
		_ = c.Close()
	}
	v.wg.Wait()
}

// candidates names every victim as a host candidate, then extra made-up ones.
func (v *victims) candidates(extra int) []string {
	var out []string
	for i, c := range v.conns {
		out = append(out, fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.9 %d typ host", i+1, c.LocalAddr().(*net.UDPAddr).Port))
	}
	for i := range extra {
		out = append(out, fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.10 %d typ host", 100+i, 40000+i))
	}
	return out
}

// insecureClient talks to the test responders (HTTPS, any certificate;
// no keep-alive, so no connection outlives its request).
var insecureClient = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
})

// signal posts to the responder's signalling with token ("" for none)
// and returns the status, the decoded offer (if any) and the bytes sent.
func signal(t *testing.T, addr, path, token string, body any) (int, Offer, int) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := insecureClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var o Offer
	_ = json.Unmarshal(data, &o)
	return resp.StatusCode, o, len(b)
}

// TestICEAmplification: what the ICE peer sends to addresses of an
// answer's choosing. A request without the token sends nothing anywhere
// (factor 0); an authenticated client's answer gets its candidates
// checked, at most DefaultMaxRemoteCandidates of them and at most
// MaxBindingRequests checks per candidate and local candidate.
func TestICEAmplification(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	r, addr := startResponder(t, ResponderConfig{SessionTimeout: 10 * time.Second})
	v := newVictims(t, DefaultMaxRemoteCandidates)
	answer := func(extra int) Answer {
		return Answer{Ufrag: "abcd", Pwd: "abcdefghijklmnopqrstuvwx", Candidates: v.candidates(extra)}
	}
	tok := testToken.Reveal()

	// A stranger: no offer, and no answer to a real client's session.
	if code, _, _ := signal(t, addr, "/v1/ice/sessions", "", struct{}{}); code != http.StatusUnauthorized {
		t.Errorf("offer without the token: HTTP %d, want 401", code)
	}
	code, offer, _ := signal(t, addr, "/v1/ice/sessions", tok, struct{}{})
	if code != http.StatusCreated {
		t.Fatalf("offer: HTTP %d", code)
	}
	for _, bad := range []string{"", "wrong-token"} {
		if code, _, _ := signal(t, addr, "/v1/ice/sessions/"+offer.Session+"/answer", bad, answer(0)); code != http.StatusUnauthorized {
			t.Errorf("answer with token %q: HTTP %d, want 401", bad, code)
		}
	}
	// Too many candidates: refused whole, nothing checked.
	if code, _, _ := signal(t, addr, "/v1/ice/sessions/"+offer.Session+"/answer", tok, answer(1)); code != http.StatusBadRequest {
		t.Errorf("answer with %d candidates: HTTP %d, want 400", DefaultMaxRemoteCandidates+1, code)
	}
	if n := v.bytes.Load(); n != 0 {
		t.Errorf("refused answers sent %d bytes to their candidates, want 0", n)
	}
	// The authenticated client aims every allowed candidate at victims.
	_, offer, _ = signal(t, addr, "/v1/ice/sessions", tok, struct{}{})
	local := len(offer.Candidates)
	code, _, sent := signal(t, addr, "/v1/ice/sessions/"+offer.Session+"/answer", tok, answer(0))
	if code != http.StatusOK {
		t.Fatalf("answer: HTTP %d", code)
	}
	// The session ends when ICE fails (about 3 s with DefaultTiming).
	waitNoSessions(t, r, 15*time.Second)
	v.close()
	// pion sends one request past its MaxBindingRequests.
	perCand := int64(local) * int64(ResponderMaxBindingRequests+1)
	var most, total int64
	for i := range v.packets {
		n := v.packets[i].Load()
		total += n
		most = max(most, n)
	}
	t.Logf("authenticated answer of %d bytes, %d candidates, %d local: %d checks (%d bytes) to them, at most %d per candidate (bound %d): factor %.1f",
		sent, DefaultMaxRemoteCandidates, local, total, v.bytes.Load(), most, perCand, float64(v.bytes.Load())/float64(sent))
	if most > perCand {
		t.Errorf("a candidate got %d checks, bound %d", most, perCand)
	}
	if total == 0 {
		t.Error("no check reached any candidate: the test measures nothing")
	}
}

// Without a token the peer refuses before anything is gathered or sent.
func TestICEOffSendsNothing(t *testing.T) {
	r, err := NewResponderHandler(ResponderConfig{IPFilter: loopbackOnly, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	v := newVictims(t, 2)
	for _, path := range []string{"/v1/ice/sessions", "/v1/ice/sessions/x/answer"} {
		code, _, _ := signal(t, addr, path, "any-token", Answer{Ufrag: "abcd", Pwd: "abcdefghijklmnopqrstuvwx", Candidates: v.candidates(0)})
		if code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", path, code)
		}
	}
	if r.Sessions() != 0 {
		t.Error("a session was opened")
	}
	v.close()
	if n := v.bytes.Load(); n != 0 {
		t.Errorf("%d bytes reached the candidates, want 0", n)
	}
}

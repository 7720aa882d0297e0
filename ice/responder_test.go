package ice

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/test"
	"github.com/pion/turn/v5"

	"github.com/ucprobe/ucprobe/probe"
	"github.com/ucprobe/ucprobe/probe/probetest"
	"github.com/ucprobe/ucprobe/probe/responder"
)

// testToken is the responders' token in tests (without one the ICE peer
// is off).
const testToken probe.Secret = "ice-test-token"

// startResponder serves the responder's ICE peer on 127.0.0.1 with
// httptest and returns its host:port.
func startResponder(t *testing.T, cfg ResponderConfig) (*Responder, string) {
	t.Helper()
	cfg.IPFilter, cfg.Loopback = loopbackOnly, true
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	r, err := NewResponderHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, serve(t, r)
}

// serve mounts the handler under /v1/ice/ as `ucprobe serve` does, over
// HTTPS on loopback, and returns host:port (its certificate's pin is in
// pins); both stop in Cleanup.
func serve(t testing.TB, r *Responder) string {
	mux := http.NewServeMux()
	mux.Handle("/v1/ice/", r)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(func() {
		srv.Close()
		r.Close()
	})
	addr := strings.TrimPrefix(srv.URL, "https://")
	pins.Store(addr, responder.Fingerprint(srv.Certificate().Raw))
	return addr
}

// waitNoSessions polls until every session of r has ended; bound only
// keeps a broken test from hanging.
func waitNoSessions(t testing.TB, r *Responder, bound time.Duration) {
	t.Helper()
	if !probetest.Eventually(bound, func() bool { return r.Sessions() == 0 }) {
		n := r.Sessions()
		t.Fatalf("%d sessions still open after %v", n, bound)
	}
}

// pins are the test servers' fingerprints by address.
var pins sync.Map

// pinned fills in what a field tech passes with --responder: the token
// (the test token unless one is set) and the fingerprint of the test
// server at cfg.Responder.
func pinned(cfg *probe.Config) *probe.Config {
	if cfg.ResponderToken == "" {
		cfg.ResponderToken = testToken
	}
	if fp, ok := pins.Load(cfg.Responder); ok {
		cfg.ResponderFingerprint = fp.(string)
	}
	return cfg
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTwoEnded(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	port := startTURN(t, "127.0.0.2")
	turnURL := fmt.Sprintf("turn:127.0.0.2:%d?transport=udp", port)
	stunURL := fmt.Sprintf("stun:127.0.0.2:%d", port)
	for _, tc := range []struct {
		name  string
		cfg   ResponderConfig
		creds probe.TURNCredentials
		kind  probe.CredentialKind
		relay bool
	}{
		{"stun only", ResponderConfig{Servers: []string{stunURL}}, probe.TURNCredentials{}, "none", false},
		{"shared turn", ResponderConfig{Servers: []string{stunURL, turnURL}, TURNUser: testUser, TURNPass: testPass, ShareTURNCredentials: true, Token: "tok-123"},
			probe.TURNCredentials{}, "responder", true},
		{"client turn creds", ResponderConfig{Servers: []string{turnURL}, TURNUser: testUser, TURNPass: testPass}, creds(), "long-term", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, addr := startResponder(t, tc.cfg)
			spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
			cfg := pinned(&probe.Config{Responder: addr, ResponderToken: tc.cfg.Token, TURN: tc.creds, Media: time.Second})
			res := runCheck(t, loopbackChecker(), spec, cfg, 10*time.Second)
			d := res.Details.ICE
			if res.Status != probe.StatusPass {
				b, _ := json.MarshalIndent(d, "", " ")
				t.Fatalf("status %s class %s: %s\n%s", res.Status, res.Class, res.Error, b)
			}
			if d.Selected == nil || d.SelectedVia != "host" {
				t.Errorf("selected via %q, want host (a direct pair works on loopback)", d.SelectedVia)
			}
			if d.TURNCredentials != tc.kind {
				t.Errorf("turn_credentials %q, want %q", d.TURNCredentials, tc.kind)
			}
			hasRelay := false
			for _, c := range d.LocalCandidates {
				hasRelay = hasRelay || c.Type == "relay"
			}
			if hasRelay != tc.relay {
				t.Errorf("local relay candidate %v, want %v", hasRelay, tc.relay)
			}
			// The offered TURN over UDP gets its TCP twin: the fallback
			// where UDP is blocked.
			tcpRelay := false
			for _, c := range d.LocalCandidates {
				tcpRelay = tcpRelay || (c.Type == "relay" && c.RelayProtocol == "tcp")
			}
			if tcpRelay != tc.relay {
				t.Errorf("relay over TCP %v, want %v (%v)", tcpRelay, tc.relay, d.Servers)
			}
			if m := d.Media; m == nil || m.Received < 45 || m.LossPct > 2 || m.MOS < 4.2 {
				t.Errorf("media %+v", m)
			}
			if d.Signalling == nil || d.Signalling.Stage != "done" || d.Signalling.Software != Software {
				t.Errorf("signalling %+v", d.Signalling)
			}
			b, _ := json.Marshal(res)
			for _, secret := range []string{testPass, "tok-123"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("secret %q in the evidence", secret)
				}
			}
			// The client deletes its session; the responder closes the agent.
			waitNoSessions(t, r, 2*time.Second)
			t.Logf("connected %.1f ms, %d pairs, media RTT %.2f ms", d.ConnectedMS, len(d.Pairs), d.Media.RTTMeanMS)
		})
	}
}

// A far end that is not a ucprobe responder, a wrong token, one that hangs,
// one that returns garbage: a clear class within the bound, never a hang.
func TestTwoEndedBadResponder(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	_, good := startResponder(t, ResponderConfig{Token: "right-token"})
	hang := make(chan struct{})
	hanging := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); hanging.Close() })
	garbage := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"schema": "ucprobe/ice/v1", "software": "ucprobe", "session": 12}`)
	}))
	t.Cleanup(garbage.Close)
	nginx := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html>404 Not Found</html>")
	}))
	t.Cleanup(nginx.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	host := func(u string) string { return strings.TrimPrefix(u, "https://") }
	for _, tc := range []struct {
		name      string
		responder string
		token     probe.Secret
		class     probe.ErrorClass
		sentinel  error
		bound     time.Duration
	}{
		{"wrong token", good, "wrong-token", probe.ClassAuth, ErrTokenRejected, 3 * time.Second},
		{"no token", good, "", probe.ClassAuth, ErrTokenRejected, 3 * time.Second},
		{"token, certificate not pinned", good, "right-token", probe.ClassTLS, probe.ErrResponderUntrusted, 3 * time.Second},
		{"not ucprobe", host(nginx.URL), "", probe.ClassProtocol, ErrNotResponder, 3 * time.Second},
		{"garbage", host(garbage.URL), "", probe.ClassProtocol, ErrNotResponder, 3 * time.Second},
		// The check's deadline is the run's share, not a bound of its own:
		// a request it cuts is canceled (skip), not evidence.
		{"hangs", host(hanging.URL), "", probe.ClassCanceled, nil, 1500 * time.Millisecond},
		{"hangs, long deadline: the request's own bound", host(hanging.URL), "", probe.ClassTimeout, nil, 15 * time.Second},
		{"nothing listens", closedAddr, "", probe.ClassRefused, nil, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)}
			cfg := &probe.Config{Responder: tc.responder, ResponderToken: tc.token, Media: time.Second}
			if tc.token != "" && !strings.Contains(tc.name, "not pinned") {
				cfg = pinned(cfg)
			}
			start := time.Now()
			res := runCheck(t, loopbackChecker(), spec, cfg, tc.bound)
			wantStatus := probe.StatusFail
			if tc.class == probe.ClassCanceled {
				wantStatus = probe.StatusSkip
			}
			if res.Status != wantStatus || res.Class != tc.class {
				t.Fatalf("status %s class %q (%s), want %s/%s", res.Status, res.Class, res.Error, wantStatus, tc.class)
			}
			if tc.sentinel != nil && !errors.Is(errorOf(res), tc.sentinel) {
				t.Errorf("error %q does not say %q", res.Error, tc.sentinel)
			}
			if took := time.Since(start); took > min(tc.bound, 2*DefaultTiming.Gather+time.Second)+500*time.Millisecond {
				t.Errorf("took %v, bound %v", took, tc.bound)
			}
			if tc.token != "" && strings.Contains(res.Error, tc.token.Reveal()) {
				t.Error("the token is in the error")
			}
		})
	}
}

// Sessions are bounded in total and per source (an address, an IPv6
// /64): a source past its share gets 429, a full responder 503, and
// neither costs an open session anything.
func TestResponderBounds(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	r, addr := startResponder(t, ResponderConfig{MaxSessions: 3, MaxSessionsPerSource: 2, SessionTimeout: 300 * time.Millisecond})
	post := func(from, path string) int {
		t.Helper()
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest(http.MethodPost, "https://"+addr+path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+testToken.Reveal())
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const path = "/v1/ice/sessions"
	got := []int{post("127.0.0.1", path), post("127.0.0.1", path), post("127.0.0.1", path), post("127.0.0.2", path), post("127.0.0.3", path)}
	if want := []int{201, 201, 429, 201, 503}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v (2 per source, 3 in all)", got, want)
	}
	waitNoSessions(t, r, 5*time.Second)
	if s := post("127.0.0.1", path); s != 201 {
		t.Errorf("after expiry: status %d", s)
	}
	if s := post("127.0.0.1", path+"/nope/answer"); s != 404 {
		t.Errorf("answer to an unknown session: %d", s)
	}
}

// Without a token the ICE peer is off, and it will not share TURN
// credentials: a one-line refusal, and an error at start.
func TestResponderNeedsToken(t *testing.T) {
	// Loopback only even here: if the token gate ever broke, the agent
	// would gather on every interface.
	r, err := NewResponderHandler(ResponderConfig{IPFilter: loopbackOnly, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, r)
	res := runCheck(t, loopbackChecker(), probe.Spec{ID: "ice", Kind: probe.KindICE, Host: "127.0.0.1", Mode: string(ModeTwoEnded)},
		&probe.Config{Responder: addr}, 3*time.Second)
	if res.Status != probe.StatusFail || !errors.Is(errorOf(res), ErrICEOff) || strings.Contains(res.Error, "\n") {
		t.Errorf("%s %s: %q, want a one-line ErrICEOff", res.Status, res.Class, res.Error)
	}
	if r.Sessions() != 0 {
		t.Error("a session was opened without a token")
	}
	if _, err := NewResponderHandler(ResponderConfig{ShareTURNCredentials: true}); !errors.Is(err, ErrShareNeedsToken) {
		t.Errorf("sharing TURN credentials without a token: err %v", err)
	}
}

func TestResponderBadConfig(t *testing.T) {
	for _, servers := range [][]string{{"http://x"}, {"turn:127.0.0.2:3478"}} {
		if _, err := NewResponderHandler(ResponderConfig{Servers: servers}); !errors.Is(err, ErrBadServer) {
			t.Errorf("%v: err %v, want ErrBadServer", servers, err)
		}
	}
	// A TURN user without its password: refused at start, saying why.
	_, err := NewResponderHandler(ResponderConfig{Servers: []string{"turn:127.0.0.2:3478"}, TURNUser: "alice"})
	if !errors.Is(err, ErrBadServer) || !errors.Is(err, probe.ErrTURNNoPassword) {
		t.Errorf("user without password: err %v, want ErrBadServer and probe.ErrTURNNoPassword", err)
	}
	// Without a TURN server the credentials are not needed: no error.
	if _, err := NewResponderHandler(ResponderConfig{Servers: []string{"stun:127.0.0.2:3478"}, TURNUser: "alice"}); err != nil {
		t.Errorf("STUN only, user without password: %v", err)
	}
}

// testClock is a clock a test moves (ResponderConfig.now).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// postOffer opens a session on the responder at addr and returns its offer.
func postOffer(t *testing.T, addr string) Offer {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/v1/ice/sessions", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+testToken.Reveal())
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o Offer
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("offer: status %d, %v, %+v", resp.StatusCode, err, o)
	}
	// The agent is no longer needed: end the session (the test waits for it).
	del, _ := http.NewRequest(http.MethodDelete, "https://"+addr+"/v1/ice/sessions/"+o.Session, nil)
	del.Header.Set("Authorization", "Bearer "+testToken.Reveal())
	if resp, err := client.Do(del); err == nil {
		resp.Body.Close()
	}
	return o
}

// TURN REST credentials expire probe.TURNRESTTTL after they are derived,
// so the responder derives them per session, not once at start: two
// sessions an hour apart get different user names with the later expiry,
// both in what the offer shares and in what the responder's own agent
// allocates its relay with. Long-term credentials stay as given.
func TestResponderTURNCredentialsPerSession(t *testing.T) {
	t.Cleanup(test.CheckRoutines(t))
	const restSecret probe.Secret = "rest-s3cret-ice"
	var mu sync.Mutex
	authenticated := map[string]bool{}
	recording := func(h turn.AuthHandler) turn.AuthHandler {
		return func(ra *turn.RequestAttributes) (string, []byte, bool) {
			mu.Lock()
			authenticated[ra.Username] = true
			mu.Unlock()
			return h(ra)
		}
	}
	restPort := startTURNAuth(t, "127.0.0.2", recording(turn.LongTermTURNRESTAuthHandler(restSecret.Reveal(), nil)))
	longTermPort := startTURNAuth(t, "127.0.0.2", recording(longTermAuth))
	start := time.Now().Truncate(time.Second)
	for _, tc := range []struct {
		name string
		cfg  ResponderConfig
		port int
		rest bool
	}{
		{"rest", ResponderConfig{TURNSecret: restSecret}, restPort, true},
		{"long-term", ResponderConfig{TURNUser: testUser, TURNPass: testPass}, longTermPort, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &testClock{t: start}
			cfg := tc.cfg
			cfg.Servers = []string{fmt.Sprintf("turn:127.0.0.2:%d?transport=udp", tc.port)}
			cfg.ShareTURNCredentials, cfg.now = true, clock.now
			r, addr := startResponder(t, cfg)
			first := postOffer(t, addr)
			clock.add(probe.TURNRESTTTL)
			second := postOffer(t, addr)
			waitNoSessions(t, r, 5*time.Second)

			var users []string
			for i, o := range []Offer{first, second} {
				if len(o.ICEServers) != 1 || o.ICEServers[0].Username == "" || o.ICEServers[0].Credential == "" {
					t.Fatalf("offer %d shares %+v, want one TURN server with credentials", i+1, o.ICEServers)
				}
				if !slices.ContainsFunc(o.Candidates, func(c string) bool { return strings.Contains(c, "typ relay") }) {
					t.Errorf("offer %d has no relay candidate (the agent's credentials were refused?): %v", i+1, o.Candidates)
				}
				users = append(users, o.ICEServers[0].Username)
			}
			mu.Lock()
			for _, u := range users {
				if !authenticated[u] {
					t.Errorf("the responder's agent never authenticated as %q (it did as %v)", u, authenticated)
				}
			}
			mu.Unlock()
			if !tc.rest {
				if users[0] != testUser || users[1] != testUser || first.ICEServers[0].Credential != testPass || second.ICEServers[0].Credential != testPass {
					t.Errorf("long-term credentials changed: users %v", users)
				}
				return
			}
			want := []string{
				strconv.FormatInt(start.Add(probe.TURNRESTTTL).Unix(), 10) + ":ucprobe",
				strconv.FormatInt(start.Add(2*probe.TURNRESTTTL).Unix(), 10) + ":ucprobe",
			}
			if !slices.Equal(users, want) {
				t.Errorf("REST user names %v, want %v (each derived at its session's creation)", users, want)
			}
			if first.ICEServers[0].Credential == second.ICEServers[0].Credential {
				t.Error("both sessions got the same REST password")
			}
		})
	}
}

// A ResponderConfig printed or logged shows none of its secrets (it has a
// func field, so encoding/json refuses it whole), and neither does the
// Responder made from it.
func TestResponderConfigNeverPrintsSecrets(t *testing.T) {
	cfg := ResponderConfig{Servers: []string{"turn:127.0.0.2:3478"}, TURNUser: testUser, TURNPass: testPass,
		TURNSecret: "rest-s3cret-ice", Token: "tok-s3cret-ice", ShareTURNCredentials: true}
	r, err := NewResponderHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "responder", r)
	// (no JSON: a ResponderConfig does not marshal, it holds funcs)
	outs := []string{fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), fmt.Sprintf("%v %+v", r, r), logged.String()}
	for _, out := range outs {
		for _, s := range []string{testPass, "rest-s3cret-ice", "tok-s3cret-ice"} {
			if strings.Contains(out, s) {
				t.Fatalf("secret %q leaked: %s", s, out)
			}
		}
	}
}

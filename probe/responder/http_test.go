package responder

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ucprobe/ucprobe/probe/secret"
)

// testClient speaks HTTPS to the responder; the certificate is checked by
// TestHTTPSFingerprint, not here.
var testClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: not JSON (%d): %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, v
}

func TestHTTP(t *testing.T) {
	for _, token := range []string{"", "http-s3cret"} {
		name := "no token"
		if token != "" {
			name = "token"
		}
		t.Run(name, func(t *testing.T) {
			base := freeBlock(t, 2)
			iceHit := false
			ice := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				iceHit = true
				writeJSON(w, http.StatusOK, map[string]string{"path": r.URL.Path})
			})
			s := startServer(t, Config{UDP: []Span{{base, base + 1}}, TCP: []int{base}, Token: secret.Secret(token), ICE: ice})
			c := newClient(t)
			c.send(base+1, mustRequest(t, "web", Key(token)).Raw)
			c.recv()
			url := "https://" + s.HTTPAddr()

			code, v := get(t, url+PathInfo, token)
			if code != 200 || v["token"] != (token != "") || v["ice"] != true || len(v["udp"].([]any)) != 1 {
				t.Errorf("info %d %v", code, v)
			}
			code, v = get(t, url+PathReceipts+"web", token)
			if code != 200 || v["received"] != 1.0 || v["answered"] != 1.0 {
				t.Errorf("receipt %d %v", code, v)
			}
			if ports := v["ports"].([]any); len(ports) != 1 || ports[0].(map[string]any)["lo"] != float64(base+1) {
				t.Errorf("receipt ports %v", ports)
			}
			if code, v = get(t, url+PathReceipts+"unknown", token); code != 404 || v["error"] == nil {
				t.Errorf("unknown session: %d %v", code, v)
			}
			if code, v = get(t, url+PathReceipts+"%20bad", token); code != 400 || v["error"] == nil {
				t.Errorf("bad session id: %d %v", code, v)
			}
			if code, v = get(t, url+PathICE+"/sessions", token); code != 200 || v["path"] != PathICE+"/sessions" || !iceHit {
				t.Errorf("ICE: %d %v", code, v)
			}
			if code, _ = get(t, url+"/nope", token); code != 404 {
				t.Errorf("unknown path: %d", code)
			}
			if token == "" {
				return
			}
			for _, bad := range []string{"", "wrong", token + "x"} {
				if code, v = get(t, url+PathInfo, bad); code != 401 || v["error"] == nil {
					t.Errorf("token %q: %d %v", bad, code, v)
				}
				if code, _ = get(t, url+PathReceipts+"web", bad); code != 401 {
					t.Errorf("receipt with token %q: %d", bad, code)
				}
			}
		})
	}
}

func TestInfoLists(t *testing.T) {
	base := freeBlock(t, 3)
	s := startServer(t, Config{UDP: []Span{{base, base + 1}}, TCP: []int{base + 2}})
	i := s.Info()
	if !slices.Equal(i.UDP, []Span{{base, base + 1}}) || !slices.Equal(i.TCP, []int{base + 2}) || i.Token || i.ICE {
		t.Errorf("info %+v", i)
	}
	code, v := get(t, "https://"+s.HTTPAddr()+PathICE, "")
	if code != 404 || v["error"] == nil {
		t.Errorf("ICE without a handler: %d %v", code, v)
	}
}

// The endpoint speaks only HTTPS, with the certificate whose fingerprint
// the server reports; a certificate in a state directory survives a
// restart, so a client's pin does too.
func TestHTTPSFingerprint(t *testing.T) {
	dir := t.TempDir()
	var pins []string
	for range 2 {
		cert, err := LoadOrCreateCert(dir)
		if err != nil {
			t.Fatal(err)
		}
		s := startServer(t, Config{Certificate: &cert})
		conn, err := tls.Dial("tcp", s.HTTPAddr(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		got := Fingerprint(conn.ConnectionState().PeerCertificates[0].Raw)
		conn.Close()
		if got != s.Fingerprint() {
			t.Errorf("presented %s, server says %s", got, s.Fingerprint())
		}
		pins = append(pins, got)
		// Plain HTTP gets no answer it could read.
		if resp, err := http.Get("http://" + s.HTTPAddr() + PathInfo); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Errorf("plain HTTP answered 200: %s", b)
			}
		}
		_ = s.Close()
	}
	if pins[0] != pins[1] {
		t.Errorf("fingerprint changed across restarts: %s, %s", pins[0], pins[1])
	}
	if fi, err := os.Stat(filepath.Join(dir, stateKey)); err != nil {
		t.Errorf("key file: %v", err)
	} else if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("key file mode %v: want 0600", fi.Mode())
	}
	for _, tc := range []struct{ in, want string }{
		{pins[0], pins[0]},
		{strings.ToUpper(pins[0]), pins[0]},
		{"sha256:" + colons(strings.TrimPrefix(pins[0], "SHA256:")), pins[0]},
		{"SHA1:abcd", ""},
		{"SHA256:abcd", ""},
		{"", ""},
	} {
		got, err := ParseFingerprint(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func colons(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(h[i : i+2]))
	}
	return b.String()
}

// One source holds at most maxHTTPConnsPerSource connections to the
// control endpoint: past it a new connection is closed at once, and the
// ones it already holds keep working.
func TestHTTPConnsPerSource(t *testing.T) {
	s := startServer(t, Config{})
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range maxHTTPConnsPerSource {
		c, err := net.Dial("tcp", s.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The listener counts a connection when it accepts it: a TLS
	// handshake on the last one proves all of them were accepted.
	last := tls.Client(held[len(held)-1], &tls.Config{InsecureSkipVerify: true})
	if err := last.Handshake(); err != nil {
		t.Fatalf("connection %d of the share: %v", maxHTTPConnsPerSource, err)
	}
	extra, err := net.Dial("tcp", s.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	_ = extra.SetReadDeadline(time.Now().Add(2 * time.Second)) // below the handshake timeout (5 s)
	if n, err := extra.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection past the share: read %d bytes, %v; want it closed", n, err)
	}
	first := tls.Client(held[0], &tls.Config{InsecureSkipVerify: true})
	if err := first.Handshake(); err != nil {
		t.Errorf("a held connection stopped working: %v", err)
	}
}

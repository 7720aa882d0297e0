package responder

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
)

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
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
			s := startServer(t, Config{UDP: []Span{{base, base + 1}}, TCP: []int{base}, Token: token, ICE: ice})
			c := newClient(t)
			c.send(base+1, mustRequest(t, "web", Key(token)).Raw)
			c.recv()
			url := "http://" + s.HTTPAddr()

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
	code, v := get(t, "http://"+s.HTTPAddr()+PathICE, "")
	if code != 404 || v["error"] == nil {
		t.Errorf("ICE without a handler: %d %v", code, v)
	}
}

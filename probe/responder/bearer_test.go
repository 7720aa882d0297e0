package responder

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequireBearer(t *testing.T) {
	const token = "s3cret-token"
	for _, tc := range []struct {
		name, auth string
		ok         bool
	}{
		{"right token", "Bearer " + token, true},
		{"no header", "", false},
		{"wrong token", "Bearer nope", false},
		{"a prefix of the token", "Bearer " + token[:4], false},
		{"the token and more", "Bearer " + token + "x", false},
		{"empty token", "Bearer ", false},
		{"no scheme", token, false},
		{"other scheme", "Basic " + token, false},
		{"scheme in lower case", "bearer " + token, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/v1/receipts", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			got := RequireBearer(rec, req, token, apiError{"token required or wrong"})
			if got != tc.ok {
				t.Fatalf("RequireBearer = %v, want %v", got, tc.ok)
			}
			if tc.ok {
				if rec.Body.Len() != 0 || rec.Header().Get("WWW-Authenticate") != "" {
					t.Errorf("accepted, yet wrote %q (headers %v): the handler answers", rec.Body, rec.Header())
				}
				return
			}
			var body apiError
			if rec.Code != http.StatusUnauthorized || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error != "token required or wrong" {
				t.Errorf("refusal: HTTP %d %q, want 401 with the given JSON body", rec.Code, rec.Body)
			}
			if h := rec.Header().Get("WWW-Authenticate"); h != `Bearer realm="ucprobe responder"` {
				t.Errorf("WWW-Authenticate %q", h)
			}
			if strings.Contains(rec.Body.String(), token) {
				t.Errorf("the refusal shows the token: %q", rec.Body)
			}
		})
	}
}

package responder

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/ucprobe/ucprobe/probe/secret"
)

// RequireBearer reports whether req carries "Authorization: Bearer token".
// The check is in constant time, both sides hashed first so not even the
// token's length leaks. When it fails, RequireBearer answers 401 with the
// WWW-Authenticate challenge and refusal as the JSON body, and the caller
// stops. The responder's HTTPS endpoint and its ICE peer both check here.
func RequireBearer(w http.ResponseWriter, req *http.Request, token secret.Secret, refusal any) bool {
	got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	gs, ws := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(token.Reveal()))
	if ok && subtle.ConstantTimeCompare(gs[:], ws[:]) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="ucprobe responder"`)
	writeJSON(w, http.StatusUnauthorized, refusal)
	return false
}

package responder

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// maxRequestBody bounds every request body (the ICE offer/answer SDP is
// a few KiB).
const maxRequestBody = 64 << 10

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Handler is the HTTP endpoint: GET PathInfo, GET PathReceipts+{session}
// and the ICE signalling under PathICE. With a token every request needs
// "Authorization: Bearer TOKEN".
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathInfo, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Info())
	})
	mux.HandleFunc("GET "+PathReceipts+"{session}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("session")
		if err := ValidSession(id); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
			return
		}
		rc, st := s.ledger.receipt(id)
		switch st {
		case receiptEvicted:
			evicted, _ := s.ledger.evictions()
			writeJSON(w, http.StatusGone, ReceiptGone{Evicted: true,
				Error: fmt.Sprintf("the receipt of session %s was dropped to make room (%d sessions evicted since start): its probes may have arrived", id, evicted)})
		case receiptUnknown:
			writeJSON(w, http.StatusNotFound, apiError{"no probes of session " + id + " arrived (or its receipt expired)"})
		default:
			writeJSON(w, http.StatusOK, rc)
		}
	})
	ice := s.cfg.ICE
	if ice == nil {
		ice = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusNotFound, apiError{"this responder has no ICE peer"})
		})
	}
	mux.Handle(PathICE, ice)
	mux.Handle(PathICE+"/", ice)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError{"no such endpoint"})
	})
	return s.authorize(http.MaxBytesHandler(mux, maxRequestBody))
}

// authorize requires the bearer token on every request (RequireBearer).
func (s *Server) authorize(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequireBearer(w, r, s.cfg.Token, apiError{"token required or wrong (Authorization: Bearer TOKEN)"}) {
			next.ServeHTTP(w, r)
		}
	})
}

package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON (schema ucprobe/report/v1),
// sanitised like every rendering: a script that prints a field of it must
// not replay a server's escape sequences.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Sanitize(r))
}

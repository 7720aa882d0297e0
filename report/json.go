package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON (schema ucprobe/report/v1).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

package report

import (
	"encoding/json"
	"errors"
	"fmt"
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

// ErrSchema: a document is not a ucprobe report of a schema this version
// reads.
var ErrSchema = errors.New("not a ucprobe report")

// ReadJSON reads a saved JSON report (for example one a customer sent),
// refusing other documents and other schema versions.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchema, err)
	}
	switch {
	case rep.Schema == "":
		return nil, fmt.Errorf("%w: no \"schema\" field", ErrSchema)
	case rep.Schema != Schema:
		return nil, fmt.Errorf("%w of schema %s: schema %q is not one this version reads", ErrSchema, Schema, rep.Schema)
	case rep.Profile == "" || rep.Checks == nil || rep.Started.IsZero():
		return nil, fmt.Errorf("%w: incomplete (no profile, start time or checks)", ErrSchema)
	case rep.Verdict.ExitCode() == ExitUnknown:
		return nil, fmt.Errorf("%w: verdict %q is not ok, degraded or failed", ErrSchema, rep.Verdict)
	}
	return &rep, nil
}

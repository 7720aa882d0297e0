package profiles

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: whatever a profile file holds, the loader answers with a
// profile or one line of ErrInvalid, never a panic; a profile it accepts
// can be planned. Seeds: testdata/fuzz/FuzzParse (the built-in profiles
// and broken ones).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		vars := map[string]string{}
		for _, v := range p.VariableNames() {
			vars[v] = "127.0.0.1"
		}
		_, _ = p.Plan(vars)
	})
}

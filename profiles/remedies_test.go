package profiles_test

import (
	"testing"

	"github.com/ucprobe/ucprobe/profiles"
	"github.com/ucprobe/ucprobe/report"
)

// Every embedded remedy is keyed to a cause the diagnosis can name: a
// misspelt key would never be shown. (This is an external test package:
// report imports profiles.)
func TestRemediesKeyedToKnownCauses(t *testing.T) {
	all, err := profiles.List()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range all {
		for cause := range p.Remedies {
			n++
			if _, ok := report.Catalog[report.Cause(cause)]; !ok {
				t.Errorf("%s: remedy for %q, which is not a cause in report.Catalog", p.ID, cause)
			}
		}
	}
	if n == 0 {
		t.Fatal("no remedies found in the embedded profiles")
	}
}

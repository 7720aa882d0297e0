package report

import (
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

// Every kind the probes register has its rendering registered here, in a
// report/kind_*.go file of its own (DESIGN: a kind is a probe file, a
// report file and the profile schema).
func TestEveryKindRenders(t *testing.T) {
	if len(probe.Kinds) == 0 {
		t.Fatal("no kinds registered")
	}
	for _, k := range probe.Kinds {
		if _, ok := renders[k]; !ok {
			t.Errorf("kind %s has no kindRender: add report/kind_%s.go with registerRender", k, k)
		}
	}
}

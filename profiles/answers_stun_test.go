package profiles

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/probe"
)

// answers_stun: a udp-range check carries the vendor's words into its
// spec (live sampling weighs silence more); anywhere else, or without a
// quote, it is an error with file:line.
func TestAnswersSTUN(t *testing.T) {
	const head = "id: site\nproduct: P\npurpose: test\nsource:\n  vendor: V\n  title: Media\n"
	rng := "checks:\n  - id: media\n    kind: udp-range\n    target: h\n    ports: 30000-30010\n    needs: responder\n    answers_stun:\n      quote: the server answers STUN\n      section: Ports\n"
	p, err := Parse("site.yaml", []byte(head+rng))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := p.Plan(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].Kind != probe.KindUDPRange || specs[0].AnswersSTUN != `V, "Media", section "Ports": "the server answers STUN"` {
		t.Fatalf("specs %+v", specs)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"not a range", head + "checks:\n  - id: sig\n    kind: tcp\n    target: h\n    port: 1\n    answers_stun:\n      quote: q\n", "site.yaml:"},
		{"no quote", head + strings.Replace(rng, "quote: the server answers STUN", "quote: \"\"", 1), "site.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("site.yaml", []byte(tc.yaml))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "answers_stun") {
				t.Fatalf("error %v", err)
			}
		})
	}
	x, err := Load("xphone")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(x.Checks, func(c Check) bool { return c.ID == "media-range" })
	if i < 0 {
		t.Fatal("xphone has no media-range check")
	}
	if a := x.Checks[i].AnswersSTUN; a == nil || !strings.Contains(a.Quote, "STUN packets") {
		t.Fatalf("xphone media-range answers_stun %+v", a)
	}
}

package probetest

import (
	"fmt"
	"strings"
	"testing"
)

// PrintVerbs are the verbs that print a whole value: a type holding a
// secret in an unexported field must show it under none of them.
var PrintVerbs = []string{"%v", "%+v", "%#v", "%s"}

// NoSecretPrinted formats v with each of PrintVerbs, as subtest name plus
// the verb, and fails it when the output holds one of secrets or does not
// hold want (what the value should still say of itself).
func NoSecretPrinted(t *testing.T, name string, v any, want string, secrets ...string) {
	t.Helper()
	for _, verb := range PrintVerbs {
		t.Run(name+" "+verb, func(t *testing.T) {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%q printed: %s", s, out)
				}
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s does not say %q", out, want)
			}
		})
	}
}

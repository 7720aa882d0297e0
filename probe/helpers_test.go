package probe

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func sprint(v any) string  { return fmt.Sprint(v) + fmt.Sprintf("%s %q", v, v) }
func sprintV(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }
func contains(s, sub string) bool {
	return strings.Contains(s, sub)
}
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(struct{ S any }{v})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

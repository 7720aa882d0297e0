package closeset

import "testing"

type closer struct{ n int }

func (c *closer) Close() error { c.n++; return nil }

func TestSet(t *testing.T) {
	var s Set
	kept, removed, late := &closer{}, &closer{}, &closer{}
	if !s.Add(kept) || !s.Add(removed) {
		t.Fatal("Add before Close refused")
	}
	s.Remove(removed)
	s.Close()
	s.Close()
	if s.Add(late) {
		t.Error("Add after Close kept the closer")
	}
	for _, tc := range []struct {
		name string
		c    *closer
		want int
	}{{"kept", kept, 1}, {"removed", removed, 0}, {"added late", late, 1}} {
		if tc.c.n != tc.want {
			t.Errorf("%s closed %d times, want %d", tc.name, tc.c.n, tc.want)
		}
	}
}

package responder

import (
	"math/bits"
	"strconv"
)

// portSet is a bit per port: 8 KiB, whatever the range, so a session's
// memory does not depend on what a client sends.
type portSet [65536 / 64]uint64

func (s *portSet) add(p uint16) { s[p/64] |= 1 << (p % 64) }

func (s *portSet) has(p uint16) bool { return s[p/64]&(1<<(p%64)) != 0 }

// spans lists the set's ports as inclusive spans in port order.
func (s *portSet) spans() []Span {
	var out []Span
	open := false
	for w, word := range s {
		if word == 0 && !open {
			continue
		}
		if word == ^uint64(0) && open {
			continue
		}
		for b := 0; b < 64; b++ {
			p := w*64 + b
			if word&(1<<b) != 0 {
				if !open {
					out = append(out, Span{Lo: p, Hi: p})
					open = true
				} else {
					out[len(out)-1].Hi = p
				}
			} else {
				open = false
			}
		}
	}
	return out
}

// count is the number of ports in the set.
func (s *portSet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// CountSpans is the number of ports in spans.
func CountSpans(spans []Span) int {
	n := 0
	for _, s := range spans {
		n += s.Hi - s.Lo + 1
	}
	return n
}

// toSpans merges sorted, distinct ports into spans.
func toSpans(ports []int) []Span {
	var out []Span
	for _, p := range ports {
		if n := len(out); n > 0 && out[n-1].Hi+1 == p {
			out[n-1].Hi = p
			continue
		}
		out = append(out, Span{Lo: p, Hi: p})
	}
	return out
}

// FormatSpans joins spans as "30000-30999,31500" ("" for none).
func FormatSpans(spans []Span) string {
	var b []byte
	for i, s := range spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(s.Lo), 10)
		if s.Hi != s.Lo {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(s.Hi), 10)
		}
	}
	return string(b)
}

package report

import (
	"reflect"
	"strings"
	"unicode/utf8"
)

// Sanitize returns a deep copy of r in which every string is safe to show
// on a terminal or in a page: servers choose many of them (STUN SOFTWARE,
// SIP reason phrases, TLS subject names, HTTP status text, error strings
// that quote an answer), and a hostile one can send escape sequences that
// clear the screen and print "ALL OK". Every renderer starts from it, so
// no renderer has to know which fields came from the network. r itself is
// left alone (it is the evidence the rules judged).
func Sanitize(r *Report) *Report {
	if r == nil {
		return nil
	}
	v := reflect.ValueOf(r).Elem()
	out := reflect.New(v.Type())
	out.Elem().Set(sanitizeValue(v, 0))
	return out.Interface().(*Report)
}

// maxSanitizeDepth bounds the walk; a report is a tree a few levels deep.
const maxSanitizeDepth = 32

// sanitizeValue copies v, cleaning every string it can reach through
// exported fields, pointers, slices, arrays, maps and interfaces.
// Unexported fields (time.Time, netip.Addr) are copied as they are.
func sanitizeValue(v reflect.Value, depth int) reflect.Value {
	if depth > maxSanitizeDepth {
		return v
	}
	switch v.Kind() {
	case reflect.String:
		s := CleanText(v.String())
		if s == v.String() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.SetString(s)
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(sanitizeValue(v.Elem(), depth+1))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(sanitizeValue(v.Elem(), depth+1))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() {
				f.Set(sanitizeValue(v.Field(i), depth+1))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v // nil, or bytes (not text)
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(sanitizeValue(v.Index(i), depth+1))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(sanitizeValue(v.Index(i), depth+1))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(sanitizeValue(it.Key(), depth+1), sanitizeValue(it.Value(), depth+1))
		}
		return out
	}
	return v
}

// CleanText makes one string from the network safe to print: terminal
// escape sequences (CSI, OSC, DCS and the two-byte kind) are dropped
// whole, other C0 and C1 control characters become a space (a newline
// could forge a report line), Unicode bidirectional overrides are dropped
// (they reorder what a reader sees), and invalid UTF-8 becomes U+FFFD.
func CleanText(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b || r == 0x9b || r == 0x9d || r == 0x90:
			i += escapeLen(s[i:])
			continue
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte(' ')
		case isBidi(r):
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isClean is the fast path: plain printable text is returned as it is.
func isClean(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError || isBidi(r) {
			return false
		}
	}
	return true
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// escapeLen is the length in bytes of the escape sequence at the start of
// s (ESC or an 8-bit introducer): CSI runs to its final byte, OSC and DCS
// to their terminator (BEL or ESC \), anything else is ESC and one byte.
func escapeLen(s string) int {
	intro, n := utf8.DecodeRuneInString(s)
	kind := intro
	if intro == 0x1b {
		if len(s) < 2 {
			return 1
		}
		switch s[1] {
		case '[':
			kind = 0x9b
		case ']', 'P', '_', '^', 'X':
			kind = 0x9d
		default:
			return 2
		}
		n = 2
	}
	if kind == 0x9b { // CSI: parameters and intermediates, then 0x40-0x7e
		for i := n; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
			if s[i] < 0x20 || s[i] > 0x3f {
				return i // not a CSI byte: stop before it
			}
		}
		return len(s)
	}
	for i := n; i < len(s); i++ { // OSC, DCS: up to BEL or ST
		if s[i] == 0x07 {
			return i + 1
		}
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
			return i + 2
		}
	}
	return len(s)
}

package probe

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of ports; a single port has First == Last.
type PortRange struct {
	First uint16 `json:"first"`
	Last  uint16 `json:"last"`
}

// Len is the number of ports in the range.
func (r PortRange) Len() int { return int(r.Last) - int(r.First) + 1 }

// Contains reports whether p lies in the range.
func (r PortRange) Contains(p uint16) bool { return p >= r.First && p <= r.Last }

func (r PortRange) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// ErrBadPorts is the class of every port-list syntax error.
var ErrBadPorts = errors.New("bad port list")

// ParsePorts parses "30000-33000", "443,9094,9100-9101" (spaces allowed).
// Ports must lie in 1-65535, ranges must not be reversed and must not
// overlap; the result is sorted.
func ParsePorts(s string) ([]PortRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadPorts)
	}
	var out []PortRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := parsePort(lo)
		if err != nil {
			return nil, err
		}
		last := first
		if isRange {
			if last, err = parsePort(hi); err != nil {
				return nil, err
			}
			if last < first {
				return nil, fmt.Errorf("%w: %q is reversed (write %d-%d)", ErrBadPorts, part, last, first)
			}
		}
		out = append(out, PortRange{First: first, Last: last})
	}
	slices.SortFunc(out, func(a, b PortRange) int { return int(a.First) - int(b.First) })
	for i := 1; i < len(out); i++ {
		if out[i].First <= out[i-1].Last {
			return nil, fmt.Errorf("%w: %s overlaps %s", ErrBadPorts, out[i], out[i-1])
		}
	}
	return out, nil
}

func parsePort(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a port number", ErrBadPorts, s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w: %d is outside 1-65535", ErrBadPorts, n)
	}
	return uint16(n), nil
}

// FormatRanges joins ranges as "30000-30999,31500".
func FormatRanges(rs []PortRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// CountPorts is the number of ports in all ranges.
func CountPorts(rs []PortRange) int {
	n := 0
	for _, r := range rs {
		n += r.Len()
	}
	return n
}

package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ucprobe/ucprobe/probe"
)

// Small helpers the rules share for reading evidence.

func ids(cs []probe.Result) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// ran are the checks that ran (pass, warn or fail), not skipped ones.
func ran(cs []probe.Result) []probe.Result {
	var out []probe.Result
	for _, c := range cs {
		if c.Status != probe.StatusSkip {
			out = append(out, c)
		}
	}
	return out
}

func filter(cs []probe.Result, keep func(probe.Result) bool) []probe.Result {
	var out []probe.Result
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// tcpLike are kinds that start with a TCP connect.
func tcpLike(c probe.Result) bool {
	t := probe.Carries(c)
	return t == probe.TransportTCP || t == probe.TransportTLS
}

// udpLike are checks that send UDP.
func udpLike(c probe.Result) bool {
	t := probe.Carries(c)
	return t == probe.TransportUDP || t == probe.TransportDTLS
}

// endpoint is the address a check reached for (the IP when known).
func endpoint(c probe.Result) string {
	if c.Address != "" {
		return c.Address
	}
	return c.Host
}

// groupBy groups checks by a key, keeping first-seen order of keys.
func groupBy(cs []probe.Result, key func(probe.Result) string) ([]string, map[string][]probe.Result) {
	var keys []string
	m := map[string][]probe.Result{}
	for _, c := range cs {
		k := key(c)
		if _, ok := m[k]; !ok {
			keys = append(keys, k)
		}
		m[k] = append(m[k], c)
	}
	return keys, m
}

// portList formats the distinct ports of checks, e.g. "TCP 443, 9094".
func portList(cs []probe.Result) string {
	var ports []int
	for _, c := range cs {
		if c.Port != 0 && !slices.Contains(ports, c.Port) {
			ports = append(ports, c.Port)
		}
	}
	slices.Sort(ports)
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ", ")
}

// describe is one line about a check's outcome.
func describe(c probe.Result) string {
	s := fmt.Sprintf("%s %s", c.Kind, c.Target)
	if c.Address != "" && !strings.Contains(c.Target, c.Address) {
		s += " (" + c.Address + ")"
	}
	if c.Class != "" {
		s += ": " + string(c.Class)
	}
	if c.Error != "" {
		s += " (" + c.Error + ")"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

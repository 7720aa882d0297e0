package profiles_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"
	"github.com/ucprobe/ucprobe/profiles"
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
		for key := range p.Remedies {
			n++
			if !cause.Known(key) {
				t.Errorf("%s: remedy for %q, which is not a cause", p.ID, key)
			}
		}
	}
	if n == 0 {
		t.Fatal("no remedies found in the embedded profiles")
	}
}

// Every vendor quote speaks of what its cause is about: a sentence about
// media not connecting cannot explain a closed signalling port, and a
// TURN cause gets a sentence about STUN/TURN, not about the UC services.
func TestRemedyQuotesFitTheirCause(t *testing.T) {
	about := map[string][]string{ // cause -> words one of which the quote must hold
		"tcp-blocked":            {"tcp", "signal", "port"},
		"port-closed":            {"tcp", "signal", "port"},
		"udp-blocked":            {"udp", "rtp", "media"},
		"udp-port-range-blocked": {"udp", "rtp"},
		"vpn-no-udp":             {"vpn"},
		"vpn-required":           {"vpn"},
		"multi-homed-server":     {"ip address"},
		"turn-unreachable":       {"turn", "stun", "3478"},
		"turn-auth-failed":       {"turn"},
		"relay-only":             {"turn", "relay"},
		"ice-failed":             {"ice", "stun", "udp", "media", "audio"},
		"websocket-blocked":      {"websocket"},
		"tls-untrusted":          {"443", "tls", "certificate"},
		"high-latency":           {"latency", "rtt"},
	}
	// Words that mark a quote as being about another layer than the cause's.
	against := map[string][]string{
		"tcp-blocked": {"voice connection", "not established"},
		"port-closed": {"voice connection", "not established"},
	}
	all, err := profiles.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		for cause, r := range p.Remedies {
			q := strings.ToLower(r.Quote)
			words, ok := about[cause]
			if !ok {
				t.Errorf("%s: remedy for %s: add what its quote must speak of to this test", p.ID, cause)
				continue
			}
			if !slices.ContainsFunc(words, func(w string) bool { return strings.Contains(q, w) }) {
				t.Errorf("%s: the quote for %s speaks of none of %v: %q", p.ID, cause, words, r.Quote)
			}
			for _, w := range against[cause] {
				if strings.Contains(q, w) {
					t.Errorf("%s: the quote for %s is about another layer (%q): %q", p.ID, cause, w, r.Quote)
				}
			}
		}
	}
}

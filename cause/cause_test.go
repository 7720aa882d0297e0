package cause

import "testing"

// The DESIGN.md ids are a contract: each is present with exactly its
// string, and every cause has a meaning and a remedy.
func TestCatalog(t *testing.T) {
	contract := []string{"dns-failure", "tcp-blocked", "port-closed", "no-route", "udp-blocked", "udp-port-range-blocked",
		"vpn-no-udp", "vpn-required", "multi-homed-server", "symmetric-nat", "turn-auth-failed", "turn-unreachable",
		"relay-only", "ice-failed", "tls-untrusted", "websocket-blocked", "high-latency", "high-jitter", "packet-loss"}
	for _, id := range contract {
		if !Known(id) {
			t.Errorf("contract cause %s is missing", id)
		}
	}
	for _, id := range IDs() {
		in, ok := Of(id)
		if !ok || in.Meaning == "" || in.Remedy == "" {
			t.Errorf("%s: meaning %q, remedy %q", id, in.Meaning, in.Remedy)
		}
	}
	if Known("tcp-blokced") || Known("") {
		t.Error("a misspelt or empty id is known")
	}
}

package probe

import "time"

// KindInfo is what the program knows about a check kind, declared once in
// the kind's own file (RegisterKind in its init): the runner, the planner and
// the profile loader read it here instead of keeping lists of their own.
// How a kind renders lives beside its rules in package report.
type KindInfo struct {
	Kind Kind
	// Prober runs the check; nil when another package probes the kind
	// (ice), which the caller then adds to the runner's probers.
	Prober Prober
	// PerAddress: run once per resolved address of a name, so "one of two
	// addresses works" shows (multi-homed servers).
	PerAddress bool
	// PerPort: a port list fans out into one check per port (a range kind
	// takes the list whole).
	PerPort bool
	// NeedsPort: a profile must give port or ports.
	NeedsPort bool
	// Modes a profile may name besides "" (none: the kind has no modes).
	Modes []string
	// Over is the transport its packets use: TransportTCP or TransportUDP
	// whatever the spec says, or "" for the spec's own transport (UDP
	// when unset). Kinds that reach a host through others' transports
	// (dns, ice) set NoReach.
	Over    Transport
	NoReach bool
	// MinNeed is the least time a check needs to conclude on the fastest
	// path (0: a TCP connect's).
	MinNeed time.Duration
}

var registry = map[Kind]KindInfo{}

// RegisterKind declares a kind, from its own file's init; Kinds keeps the
// registration order. A kind registered twice is a programming error.
func RegisterKind(k KindInfo) {
	if _, dup := registry[k.Kind]; dup {
		panic("probe: kind " + string(k.Kind) + " registered twice")
	}
	registry[k.Kind] = k
	Kinds = append(Kinds, k.Kind)
}

// KindOf is the registered information of k.
func KindOf(k Kind) (KindInfo, bool) {
	info, ok := registry[k]
	return info, ok
}

// Kinds lists every kind a profile may declare, in registration order.
var Kinds []Kind

// DefaultProbers are the probers of package probe. Packages that probe
// kinds of their own (ice) are added by the caller.
func DefaultProbers() map[Kind]Prober {
	m := map[Kind]Prober{}
	for k, info := range registry {
		if info.Prober != nil {
			m[k] = info.Prober
		}
	}
	return m
}

// Carries is the transport a result's packets used, "" for kinds that do
// not reach a host by themselves (dns, ice).
func Carries(r Result) Transport {
	info, ok := registry[r.Kind]
	switch {
	case !ok || info.NoReach:
		return ""
	case info.Over != "":
		return info.Over
	case r.Transport == "":
		return TransportUDP
	}
	return r.Transport
}

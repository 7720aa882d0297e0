// Package secret holds the one type for values that must never print:
// TURN passwords and shared secrets, responder tokens. It imports nothing
// of ucprobe, so every package can use it; probe.Secret is this type
// (probe/responder, which probe imports, cannot import probe).
package secret

import "log/slog"

// Secret is a string that never prints: fmt, %v, %#v, JSON and slog show
// it as "[redacted]". Use Reveal to hand the value to a protocol library.
// fmt calls these methods only where it may: a Secret in an unexported
// struct field prints as the plain string, so a type keeping secrets there
// (ice.Responder, responder.Server) needs a String of its own.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from leaking the value.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON keeps encoders from leaking the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue keeps slog from leaking the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

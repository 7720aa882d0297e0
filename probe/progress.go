package probe

import "time"

// ProgressEvent is one check starting or ending, for the CLI's progress
// lines and --debug. Done is false at the start (Result is empty then).
type ProgressEvent struct {
	Spec   Spec
	Done   bool
	Result Result
}

// started and finished tell Config.Progress and the debug log about a
// check; both are no-ops when neither is set.
func started(cfg *Config, s Spec) {
	if cfg.Progress != nil {
		cfg.Progress(ProgressEvent{Spec: s})
	}
	if cfg.Logger != nil {
		cfg.Logger.Debug("check start", "check", s.ID, "kind", s.Kind, "target", s.Target, "address", s.Address,
			"port", s.Port, "transport", s.Transport, "cap", s.Timeout.Round(time.Millisecond), // the profile's timeout: (0: none)
			"rto", cfg.Clock.RTO(), "udp_silence", cfg.Clock.UDPSilence(), "tcp_silence", cfg.Clock.TCPSilence())
	}
}

func finished(cfg *Config, s Spec, r Result) {
	if cfg.Progress != nil {
		cfg.Progress(ProgressEvent{Spec: s, Done: true, Result: r})
	}
	if cfg.Logger != nil {
		cfg.Logger.Debug("check end", "check", s.ID, "status", r.Status, "class", r.Class, "address", r.Address,
			"ms", r.DurationMS, "error", r.Error)
	}
}

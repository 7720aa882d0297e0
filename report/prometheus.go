package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ucprobe/ucprobe/probe"
)

// Metrics of one report, named by Prometheus conventions. The exporter's
// /probe endpoint and `run --format prometheus` (textfile collector) both
// render through NewCollector, so the two can never drift apart.
//
// Label values are bounded: the check label is the profile's check id with
// the per-address suffix ("id@192.0.2.7") removed, a DNS check is named by
// the profile variable it resolved ("dns:server"), and the only ports that
// appear are the ranges the profile declares. Values of several addresses
// of one check are folded (success: all must pass; durations and delays:
// the worst; port counts: the sum).

// MetricsOptions shape the metrics of a report.
type MetricsOptions struct {
	// ConstLabels are added to every metric. The textfile mode sets
	// profile and target so that several files in one collector directory
	// do not collide; the exporter leaves them to Prometheus' relabelling.
	ConstLabels map[string]string
}

var (
	descProbeSuccess  = newDesc("probe_success", "1 when the run found no critical cause (verdict ok or degraded), 0 when it failed.")
	descProbeDuration = newDesc("probe_duration_seconds", "How long the whole run took, in seconds.")
	descVerdict       = newDesc("ucprobe_verdict", "The run's verdict as a state set: 1 for the current one.", "verdict")
	descRunTimestamp  = newDesc("ucprobe_run_timestamp_seconds", "When the run started, as a Unix time (textfile mode: alert when it gets old).")
	descChecks        = newDesc("ucprobe_checks", "Number of check results by status.", "status")
	descCheckSuccess  = newDesc("ucprobe_check_success", "1 when the check passed (or warned) on every address, 0 when it failed; skipped checks are absent.", "check", "kind")
	descCheckSkipped  = newDesc("ucprobe_check_skipped", "1 when the check did not run (needs a responder, variable not set, the deadline ended it).", "check", "kind")
	descCheckError    = newDesc("ucprobe_check_error", "1 for the error class of a failed check (timeout, refused, unreachable, prohibited, dns, tls, auth, protocol, canceled).", "check", "kind", "class")
	descCheckDuration = newDesc("ucprobe_check_duration_seconds", "Duration of a check (phase total) and of its steps (connect, handshake, allocate, ...), the slowest address.", "check", "kind", "phase")
	descFinding       = newDesc("ucprobe_finding", "1 for each cause the diagnosis names (absent when not found).", "cause", "severity")
	descTLSExpiry     = newDesc("ucprobe_tls_cert_expiry_timestamp_seconds", "NotAfter of the server's leaf certificate as a Unix time (the earliest over addresses).", "check")
	descSTUNRTT       = newDesc("ucprobe_stun_rtt_seconds", "Round-trip time of the STUN Binding transaction.", "check")
	descSIPRTT        = newDesc("ucprobe_sip_rtt_seconds", "Round-trip time of the SIP OPTIONS transaction.", "check")
	descSIPStatus     = newDesc("ucprobe_sip_status_code", "SIP status code of the OPTIONS answer.", "check")
	descTURNRelay     = newDesc("ucprobe_turn_relay_datagrams", "Datagrams sent through the TURN relay to a local peer and received back.", "check", "direction")
	descICEConnected  = newDesc("ucprobe_ice_connected", "1 when ICE reached connected, else 0.", "check")
	descICEPair       = newDesc("ucprobe_ice_selected_pair", "1 for the candidate types of the selected ICE pair (relay means media goes through TURN).", "check", "local_type", "remote_type")
	descMediaLoss     = newDesc("ucprobe_media_loss_ratio", "Packet loss of the media-like stream, 0-1.", "check")
	descMediaJitter   = newDesc("ucprobe_media_jitter_seconds", "Interarrival jitter of the media-like stream (RFC 3550).", "check")
	descMediaRTT      = newDesc("ucprobe_media_rtt_seconds", "Mean round-trip time of the media-like stream.", "check")
	descMediaRTTP95   = newDesc("ucprobe_media_rtt_p95_seconds", "95th percentile round-trip time of the media-like stream.", "check")
	descMOS           = newDesc("ucprobe_mos", "Estimated mean opinion score (1-4.5) of the media-like stream (E-model).", "check")
	descUDPOpen       = newDesc("ucprobe_udp_range_open_ports", "Ports of a declared UDP range that answered.", "check", "range")
	descUDPSwept      = newDesc("ucprobe_udp_range_swept_ports", "Ports of a declared UDP range that were tested (open, closed, prohibited or filtered; a sample of a huge range).", "check", "range")
	descUDPPorts      = newDesc("ucprobe_udp_range_ports", "Ports of a declared UDP range by state (open, closed, prohibited, filtered).", "check", "range", "state")
	descNAT           = newDesc("ucprobe_nat_info", "1 for the NAT behaviour STUN measured (RFC 4787 terms).", "mapping", "filtering")
	descVPNUp         = newDesc("ucprobe_vpn_up", "1 when a VPN tunnel interface is up on the probing host.")
)

var allDescs = []*prometheus.Desc{
	descProbeSuccess, descProbeDuration, descVerdict, descRunTimestamp, descChecks, descCheckSuccess,
	descCheckSkipped, descCheckError, descCheckDuration, descFinding, descTLSExpiry, descSTUNRTT, descSIPRTT,
	descSIPStatus, descTURNRelay, descICEConnected, descICEPair, descMediaLoss, descMediaJitter, descMediaRTT,
	descMediaRTTP95, descMOS, descUDPOpen, descUDPSwept, descUDPPorts, descNAT, descVPNUp,
}

// metricLabels are the label names the metrics use themselves; textfile
// labels must not collide with them.
var metricLabels = map[string]bool{}

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	for _, l := range labels {
		metricLabels[l] = true
	}
	return prometheus.NewDesc(name, help, labels, nil)
}

// ErrBadLabel is the class of an extra label that cannot be added.
var ErrBadLabel = errors.New("bad metrics label")

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// CheckConstLabel says whether name can be added to every metric: a valid
// Prometheus label name, not reserved (__), and not one the metrics use.
func CheckConstLabel(name string) error {
	switch {
	case !labelName.MatchString(name):
		return fmt.Errorf("%w: %q is not a label name (letters, digits, _; not starting with a digit)", ErrBadLabel, name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("%w: %q: names starting with __ are reserved by Prometheus", ErrBadLabel, name)
	case metricLabels[name]:
		return fmt.Errorf("%w: %q is a label of ucprobe's own metrics", ErrBadLabel, name)
	}
	return nil
}

// NewCollector returns a collector that exposes the report's metrics. It
// is meant for a fresh registry per report.
func NewCollector(r *Report) prometheus.Collector { return &reportCollector{r: Sanitize(r)} }

// RegisterReport registers the report's metrics, with opt's constant labels.
func RegisterReport(reg prometheus.Registerer, r *Report, opt MetricsOptions) error {
	if len(opt.ConstLabels) > 0 {
		reg = prometheus.WrapRegistererWith(prometheus.Labels(opt.ConstLabels), reg)
	}
	return reg.Register(NewCollector(r))
}

// WritePrometheus writes the report's metrics in the text exposition format
// (for node_exporter's textfile collector).
func WritePrometheus(w io.Writer, r *Report, opt MetricsOptions) error {
	reg := prometheus.NewRegistry()
	if err := RegisterReport(reg, r, opt); err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

type reportCollector struct{ r *Report }

func (c *reportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (c *reportCollector) Collect(ch chan<- prometheus.Metric) {
	s := &sampleSet{m: map[string]*sample{}}
	collectReport(s, c.r)
	for _, k := range s.order {
		x := s.m[k]
		m, err := prometheus.NewConstMetric(x.desc, prometheus.GaugeValue, x.value, x.labels...)
		if err != nil {
			m = prometheus.NewInvalidMetric(x.desc, err)
		}
		ch <- m
	}
}

// fold says how two values for one series (two addresses of a check) combine.
type foldHow int

const (
	foldMax foldHow = iota
	foldMin
	foldSum
)

type sample struct {
	desc   *prometheus.Desc
	labels []string
	value  float64
}

// sampleSet collects samples in first-seen order, folding duplicates.
type sampleSet struct {
	order []string
	m     map[string]*sample
}

func (s *sampleSet) add(d *prometheus.Desc, f foldHow, v float64, labels ...string) {
	if math.IsNaN(v) {
		return
	}
	key := d.String() + "\xff" + strings.Join(labels, "\xff")
	if x, ok := s.m[key]; ok {
		switch f {
		case foldMin:
			x.value = math.Min(x.value, v)
		case foldSum:
			x.value += v
		default:
			x.value = math.Max(x.value, v)
		}
		return
	}
	s.order = append(s.order, key)
	s.m[key] = &sample{desc: d, labels: labels, value: v}
}

func collectReport(s *sampleSet, r *Report) {
	s.add(descProbeSuccess, foldMin, b2f(r.Verdict != VerdictFailed))
	s.add(descProbeDuration, foldMax, msToS(r.DurationMS))
	for _, v := range []Verdict{VerdictOK, VerdictDegraded, VerdictFailed} {
		s.add(descVerdict, foldMax, b2f(r.Verdict == v), string(v))
	}
	if !r.Started.IsZero() {
		s.add(descRunTimestamp, foldMax, float64(r.Started.UnixMilli())/1000)
	}
	counts := map[probe.Status]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
	}
	for _, st := range []probe.Status{probe.StatusPass, probe.StatusWarn, probe.StatusFail, probe.StatusSkip} {
		s.add(descChecks, foldSum, float64(counts[st]), string(st))
	}
	for _, c := range r.Checks {
		collectCheck(s, c, checkLabel(c, r.Variables))
	}
	for _, f := range r.Findings {
		s.add(descFinding, foldMax, 1, string(f.Cause), string(f.Severity))
	}
	if nat := r.Environment.NAT; nat != nil && nat.Mapping != "" {
		s.add(descNAT, foldMax, 1, string(nat.Mapping), string(nat.Filtering))
	}
	s.add(descVPNUp, foldMax, b2f(r.Environment.VPN.Up))
}

// checkLabel is the bounded name of a check: its profile id without the
// per-address suffix; a DNS check is named by the variable it resolved.
func checkLabel(c probe.Result, vars map[string]string) string {
	if c.Kind == probe.KindDNS {
		name := strings.TrimPrefix(c.ID, "dns:")
		best := ""
		for k, v := range vars {
			if strings.EqualFold(strings.TrimSuffix(v, "."), name) && (best == "" || k < best) {
				best = k
			}
		}
		if best != "" {
			return "dns:" + best
		}
		return c.ID
	}
	id, _, _ := strings.Cut(c.ID, "@")
	return id
}

func collectCheck(s *sampleSet, c probe.Result, id string) {
	kind := string(c.Kind)
	if c.Status == probe.StatusSkip {
		s.add(descCheckSkipped, foldMax, 1, id, kind)
		return
	}
	s.add(descCheckSuccess, foldMin, b2f(c.Status != probe.StatusFail), id, kind)
	if c.Status == probe.StatusFail && c.Class != probe.ClassNone {
		s.add(descCheckError, foldMax, 1, id, kind, string(c.Class))
	}
	cs := checkSamples{s: s, id: id, kind: kind}
	cs.phase("total", c.DurationMS)
	if f := renders[c.Kind].Metrics; f != nil {
		f(cs, c.Details)
	}
}

// checkSamples adds one check's samples.
type checkSamples struct {
	s        *sampleSet
	id, kind string
}

// phase adds a duration of a named step of the check ("total" always).
func (cs checkSamples) phase(name string, ms float64) {
	if ms > 0 || name == "total" {
		cs.s.add(descCheckDuration, foldMax, msToS(ms), cs.id, cs.kind, name)
	}
}

func (cs checkSamples) tlsExpiry(t *probe.TLSDetails) {
	if t != nil && !t.NotAfter.IsZero() {
		cs.s.add(descTLSExpiry, foldMin, float64(t.NotAfter.Unix()), cs.id)
	}
}

// candType keeps the candidate-type label to the four ICE types.
func candType(t probe.CandidateType) string {
	switch t {
	case probe.CandidateHost, probe.CandidateSrflx, probe.CandidatePrflx, probe.CandidateRelay:
		return string(t)
	}
	return "unknown"
}

// msToS converts milliseconds to seconds, rounded to the microsecond the
// evidence is measured in (no float noise in the exposition).
func msToS(ms float64) float64 { return math.Round(ms*1000) / 1e6 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

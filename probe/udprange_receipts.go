package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"

	"github.com/ucprobe/ucprobe/probe/responder"
)

// errNotFound: the responder does not know the session (nothing arrived).
var errNotFound = errors.New("unknown session")

// errGone: the responder dropped the session's receipt to make room.
var errGone = errors.New("receipt evicted")

// fetchReceipts asks the responder what it serves and which of this
// sweep's probes arrived. Receipts only mean something when the responder
// is the sweep's target: "nothing arrived" at another host proves nothing.
func fetchReceipts(ctx context.Context, spec Spec, cfg *Config, sw *sweeper, det *UDPRangeDetails) {
	ep, err := cfg.ResponderEndpoint()
	if err != nil {
		det.ReceiptsError = err.Error()
		return
	}
	if !sameHost(ctx, cfg, ep.Host, spec, sw.target) {
		det.ReceiptsError = fmt.Sprintf("the responder %s is not this sweep's target %s: no receipts", ep.Host, sw.target)
		return
	}
	var info responder.Info
	if err := getJSON(ctx, ep, ep.Base+responder.PathInfo, cfg.ResponderToken, &info); err != nil {
		det.ReceiptsError = "responder info: " + err.Error()
		det.TokenRefused = errors.Is(err, ErrResponderToken)
		return
	}
	var rc responder.Receipt
	switch err := getJSON(ctx, ep, ep.Base+responder.PathReceipts+sw.session, cfg.ResponderToken, &rc); {
	case errors.Is(err, errGone):
		// Its probes may have arrived: no judgement of the inbound path.
		det.ReceiptLost = true
		det.ReceiptsError = fmt.Sprintf("the responder dropped this sweep's receipt to make room for other sessions (%d evicted since it started): which probes arrived is unknown", info.SessionsEvicted)
		return
	case errors.Is(err, errNotFound) && sw.sawSession():
		// It answered probes of this session, yet does not know it: a
		// restart, or a receipt dropped beyond what it remembers.
		det.ReceiptLost = true
		det.ReceiptsError = "the responder answered this sweep's probes but no longer knows its session (restarted, or the receipt was dropped): which probes arrived is unknown"
		return
	case errors.Is(err, errNotFound): // the responder saw none of our probes
	case err != nil:
		det.ReceiptsError = "receipts: " + err.Error()
		return
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	sw.arrived = make([]bool, len(sw.ports))
	sw.notServed = make([]bool, len(sw.ports))
	for i, p := range sw.ports {
		sw.arrived[i] = inSpans(rc.Ports, p)
		sw.notServed[i] = !inSpans(info.UDP, p) || inSpans(info.UDPFailed, p)
	}
	sw.receipts = true
	det.RateLimited = rc.RateLimited
}

func inSpans(spans []responder.Span, p uint16) bool {
	return slices.ContainsFunc(spans, func(s responder.Span) bool { return int(p) >= s.Lo && int(p) <= s.Hi })
}

// sameHost: the responder's host is the sweep's target (by name, or by
// one of its addresses).
func sameHost(ctx context.Context, cfg *Config, host string, spec Spec, target netip.Addr) bool {
	if host == spec.Host || host == spec.DialHost() {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap() == target
	}
	addrs, err := ResolverOf(cfg).LookupNetIP(ctx, "ip", host)
	return err == nil && slices.ContainsFunc(addrs, func(a netip.Addr) bool { return a.Unmap() == target })
}

func getJSON(ctx context.Context, ep *ResponderEndpoint, url string, token Secret, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token.Reveal())
	}
	resp, err := ep.Client.Do(req)
	if err != nil {
		return ep.TrustError(UnwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return errNotFound
	case resp.StatusCode == http.StatusGone:
		return errGone
	case resp.StatusCode == http.StatusUnauthorized:
		return errUnauthorized
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("not a ucprobe responder: %v", err)
	}
	return nil
}

// UnwrapURLError drops net/http's "Get URL:" wrapper, which repeats the
// URL the caller already names.
func UnwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// ErrResponderToken: the responder refused the token (or wants one).
var ErrResponderToken = errors.New("the responder refused the token")

// errUnauthorized marks a 401 from the responder.
var errUnauthorized = fmt.Errorf("HTTP 401: %w: give the one `ucprobe serve --token` was started with (--token or UCPROBE_TOKEN)", ErrResponderToken)

// CheckResponderToken asks the responder's /v1/info once, within ctx, and
// returns ErrResponderToken when it refuses the token: every check that
// needs the responder would then meet silence, which is no evidence (bad
// input, exit 3); so would a certificate that is not trusted, for which
// the token was not sent (ErrResponderUntrusted). Any other outcome
// (unreachable, not a responder) is left to the checks to report and
// returns nil.
func CheckResponderToken(ctx context.Context, cfg *Config) error {
	if cfg == nil || cfg.Responder == "" {
		return nil
	}
	ep, err := cfg.ResponderEndpoint()
	if err != nil {
		return err
	}
	var info responder.Info
	switch err := getJSON(ctx, ep, ep.Base+responder.PathInfo, cfg.ResponderToken, &info); {
	case errors.Is(err, ErrResponderToken):
		return fmt.Errorf("--token: the responder at %s refused it (%w)", ep.Host, err)
	case errors.Is(err, ErrResponderUntrusted):
		return err
	}
	return nil
}

// sawSession: an answer echoed this sweep's session, so the responder
// filed at least one of its probes.
func (s *sweeper) sawSession() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionSeen
}

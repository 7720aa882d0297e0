package report

import (
	"fmt"

	"github.com/ucprobe/ucprobe/cause"

	"github.com/ucprobe/ucprobe/probe"
)

func tlsOf(c probe.Result) *probe.TLSDetails {
	if c.Details.TLS != nil {
		return c.Details.TLS
	}
	if w := c.Details.WebSocket; w != nil {
		return w.TLS
	}
	return nil
}

// tls-untrusted: the handshake completed but the chain does not verify.
// An unknown authority on a public name is the mark of TLS inspection.
func ruleTLSUntrusted(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool {
		t := tlsOf(c)
		return c.Status == probe.StatusFail && t != nil && t.Version != "" && !t.Verified
	})
	keys, by := groupBy(bad, func(c probe.Result) string { return c.Host })
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		t := tlsOf(cs[0])
		detail := fmt.Sprintf("The certificate %s presents is issued by %q and does not verify (%s).", k, t.Issuer, t.VerifyReason)
		switch t.VerifyReason {
		case probe.VerifyUnknownAuthority:
			detail += " This client does not trust that issuer: typical of a proxy that inspects TLS, or of a private CA (give it with --ca-file if it is yours)."
		case probe.VerifyNameMismatch:
			detail += " The certificate is for another name: a wrong certificate on the server, or something in between answering."
		case probe.VerifyExpired:
			detail += fmt.Sprintf(" It expired on %s.", t.NotAfter.Format("2006-01-02"))
		}
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "TLS certificate of " + k + " not trusted",
			Detail:   detail,
			Evidence: ids(cs),
			Explains: []Cause{cause.WebSocketBlocked, cause.TLSFailed},
			Facts:    map[string]string{"issuer": t.Issuer, "reason": t.VerifyReason},
		})
	}
	return out
}

// tls-failed: the handshake itself failed (alert, reset, not TLS).
func ruleTLSFailed(in *Input) []Finding {
	bad := filter(in.Checks, func(c probe.Result) bool {
		t := tlsOf(c)
		return c.Status == probe.StatusFail && c.Class == probe.ClassTLS && t != nil && t.Version == ""
	})
	keys, by := groupBy(bad, endpoint)
	var out []Finding
	for _, k := range keys {
		cs := by[k]
		out = append(out, Finding{
			Severity: severityFor(cs...),
			Title:    "TLS handshake with " + k + " failed",
			Detail:   fmt.Sprintf("The TCP connect worked but the TLS handshake did not: %s.", cs[0].Error),
			Evidence: ids(cs),
		})
	}
	return out
}

// websocket-blocked: TLS works, the WebSocket upgrade does not (a proxy or
// firewall strips or refuses it).
func ruleWebSocketBlocked(in *Input) []Finding {
	var out []Finding
	for _, c := range in.Checks {
		w := c.Details.WebSocket
		if c.Status != probe.StatusFail || w == nil || w.Stage != probe.WSStageUpgrade {
			continue
		}
		got := "no HTTP answer"
		if w.StatusCode != 0 {
			got = fmt.Sprintf("%q", w.Status)
		}
		via := ""
		if v := w.Headers["Via"]; v != "" {
			via = fmt.Sprintf(" The answer came through %q (Via header): a proxy is in the path.", v)
		}
		if w.Proxy != "" {
			via += fmt.Sprintf(" This client uses the proxy %s.", w.Proxy)
		}
		out = append(out, Finding{
			Severity: severityFor(c),
			Title:    "WebSocket to " + c.Host + " refused after TLS",
			Detail:   fmt.Sprintf("TLS to %s works, but the WebSocket upgrade to %s got %s instead of 101 Switching Protocols.%s", c.Host, w.URL, got, via),
			Evidence: []string{c.ID},
			Facts:    map[string]string{"status": fmt.Sprint(w.StatusCode)},
		})
	}
	return out
}

// tls-expiring: a trusted certificate close to its end.
func ruleTLSExpiring(in *Input) []Finding {
	var out []Finding
	for _, c := range in.Checks {
		t := tlsOf(c)
		if c.Status != probe.StatusWarn || t == nil || !t.Verified || t.DaysLeft >= probe.ExpiryWarnDays {
			continue
		}
		out = append(out, Finding{
			Severity: SeverityWarning,
			Title:    fmt.Sprintf("Certificate of %s expires in %d days", c.Host, t.DaysLeft),
			Detail:   fmt.Sprintf("The certificate is valid until %s.", t.NotAfter.Format("2006-01-02")),
			Evidence: []string{c.ID},
		})
	}
	return out
}

package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

func init() {
	RegisterKind(KindInfo{Kind: KindTLS, Prober: TLS, PerAddress: true, PerPort: true, NeedsPort: true, Over: TransportTCP})
}

// ExpiryWarnDays is how close to expiry a certificate turns a check into a warning.
const ExpiryWarnDays = 14

// TLSDetails is the evidence of a TLS handshake and chain verification.
type TLSDetails struct {
	ServerName  string  `json:"server_name"`
	Version     string  `json:"version,omitempty"`
	CipherSuite string  `json:"cipher_suite,omitempty"`
	ALPN        string  `json:"alpn,omitempty"`
	HandshakeMS float64 `json:"handshake_ms"`
	Verified    bool    `json:"verified"`
	// VerifyReason is why verification failed: unknown-authority (an
	// inspecting proxy or a private CA), name-mismatch, expired,
	// not-yet-valid, or invalid.
	VerifyReason string    `json:"verify_reason,omitempty"`
	Subject      string    `json:"subject,omitempty"`
	Issuer       string    `json:"issuer,omitempty"`
	NotAfter     time.Time `json:"not_after,omitzero"`
	DaysLeft     int       `json:"days_left,omitempty"`
}

// Verify reasons.
const (
	VerifyUnknownAuthority = "unknown-authority"
	VerifyNameMismatch     = "name-mismatch"
	VerifyExpired          = "expired"
	VerifyNotYetValid      = "not-yet-valid"
	VerifyInvalid          = "invalid"
)

// TLS connects, completes a handshake with the spec's SNI, and verifies the
// chain against the system roots plus --ca-file. It keeps the details of an
// untrusted chain (who issued it) because that is what names an inspecting
// proxy.
func TLS(ctx context.Context, spec Spec, cfg *Config) Result {
	res := NewResult(spec)
	res.Transport = TransportTLS
	det := &TLSDetails{ServerName: spec.ServerName()}
	res.Details.TLS = det
	raw, err := dialTCP(ctx, spec, cfg)
	if err != nil {
		res.Fail(Classify(err), err)
		return res
	}
	defer raw.Close()
	conn, err := handshakeTLS(ctx, raw, spec.ServerName(), cfg, det)
	if err != nil {
		res.Fail(tlsClass(err), err)
		return res
	}
	_ = conn.Close()
	if !det.Verified {
		res.Fail(ClassTLS, fmt.Errorf("certificate not trusted: %s (issuer %q)", det.VerifyReason, det.Issuer))
		return res
	}
	if det.DaysLeft < ExpiryWarnDays {
		res.Status = StatusWarn
		res.Error = fmt.Sprintf("certificate expires in %d days (%s)", det.DaysLeft, det.NotAfter.Format(time.DateOnly))
	}
	return res
}

// handshakeTLS runs a client handshake on an established connection,
// filling det. Verification is done here rather than by crypto/tls so that
// an untrusted chain still yields its details; the caller decides.
func handshakeTLS(ctx context.Context, raw net.Conn, serverName string, cfg *Config, det *TLSDetails) (*tls.Conn, error) {
	var roots *x509.CertPool
	if cfg != nil {
		roots = cfg.RootCAs
	}
	tcfg := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // verified below, by hand, to keep the details
		NextProtos:         []string{"http/1.1"},
		MinVersion:         tls.VersionTLS10,
	}
	conn := tls.Client(raw, tcfg)
	start := time.Now()
	err := conn.HandshakeContext(ctx)
	det.HandshakeMS = ms(time.Since(start))
	if err != nil {
		return nil, err
	}
	st := conn.ConnectionState()
	det.Version = tls.VersionName(st.Version)
	det.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
	det.ALPN = st.NegotiatedProtocol
	if len(st.PeerCertificates) == 0 {
		det.VerifyReason = VerifyInvalid
		return conn, nil
	}
	leaf := st.PeerCertificates[0]
	det.Subject = leaf.Subject.String()
	det.Issuer = leaf.Issuer.String()
	det.NotAfter = leaf.NotAfter
	det.DaysLeft = int(time.Until(leaf.NotAfter).Hours() / 24)
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: serverName, Roots: roots, Intermediates: inter})
	det.Verified = verr == nil
	det.VerifyReason = verifyReason(verr)
	return conn, nil
}

func verifyReason(err error) string {
	if err == nil {
		return ""
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return VerifyUnknownAuthority
	case errors.As(err, &hn):
		return VerifyNameMismatch
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		if time.Now().Before(inv.Cert.NotBefore) {
			return VerifyNotYetValid
		}
		return VerifyExpired
	}
	return VerifyInvalid
}

// tlsClass keeps socket-level classes (a reset or timeout during the
// handshake) and calls everything else a TLS failure.
func tlsClass(err error) ErrorClass {
	switch c := Classify(err); c {
	case ClassTimeout, ClassRefused, ClassUnreachable, ClassProhibited, ClassCanceled:
		return c
	}
	return ClassTLS
}

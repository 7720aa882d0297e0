package responder

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ucprobe/ucprobe/internal/files"
)

// The control endpoint (receipts, info, ICE signalling) speaks HTTPS only:
// the bearer token must never cross the network in the clear. Without a
// certificate from the user the responder makes a self-signed one; a
// client pins it by the SHA-256 fingerprint `ucprobe serve` prints.

// Files of a state directory.
const (
	stateCert = "responder-cert.pem"
	stateKey  = "responder-key.pem"
)

// certLifetime: long, since the pin, not the date, is what a client checks.
const certLifetime = 10 * 365 * 24 * time.Hour

// ErrFingerprint: a fingerprint that does not parse.
var ErrFingerprint = errors.New("bad certificate fingerprint")

// Fingerprint is "SHA256:" and the lowercase hex SHA-256 of a certificate's
// DER bytes (what `openssl x509 -fingerprint -sha256` shows, without colons).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// ParseFingerprint reads "SHA256:" followed by 64 hex digits, colons and
// case as openssl prints them allowed; it returns the canonical form.
func ParseFingerprint(s string) (string, error) {
	v := strings.TrimSpace(s)
	if len(v) < 7 || !strings.EqualFold(v[:7], "sha256:") {
		return "", fmt.Errorf("%w %q: write SHA256: and 64 hex digits, as `ucprobe serve` prints it", ErrFingerprint, s)
	}
	h := strings.ToLower(strings.ReplaceAll(v[7:], ":", ""))
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%w %q: write SHA256: and 64 hex digits, as `ucprobe serve` prints it", ErrFingerprint, s)
	}
	return "SHA256:" + h, nil
}

// SelfSigned makes a certificate and key for the endpoint (ECDSA P-256).
// Names are informative only: clients pin the fingerprint.
func SelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: serial,
		Subject:   pkix.Name{CommonName: "ucprobe responder", Organization: []string{"ucprobe"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certLifetime),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"ucprobe-responder"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// LoadOrCreateCert returns the certificate kept in dir, making it (and
// dir, mode 0700) on first use, so the fingerprint clients pin survives
// restarts. The key file is written 0600, atomically.
func LoadOrCreateCert(dir string) (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(dir, stateCert), filepath.Join(dir, stateKey)
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("%w: state directory %s: %v (delete %s and %s to make a new certificate; clients then need the new fingerprint)", ErrConfig, dir, err, stateCert, stateKey)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: state directory %s: %v", ErrConfig, dir, err)
	}
	c, err = SelfSigned()
	if err != nil {
		return tls.Certificate{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: state directory %s: %v", ErrConfig, dir, err)
	}
	if err := writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: state directory %s: %v", ErrConfig, dir, err)
	}
	return c, nil
}

// LoadCert reads a certificate (chain) and key the user gives.
func LoadCert(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: --tls-cert %s / --tls-key %s: %v", ErrConfig, certFile, keyFile, files.Bare(err))
	}
	return c, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

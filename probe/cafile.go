package probe

import (
	"crypto/x509"
	"errors"

	"github.com/ucprobe/ucprobe/internal/files"
)

// ErrNoPEM: a CA file holds no PEM certificate.
var ErrNoPEM = errors.New("no PEM certificate in the file")

// LoadCAFile returns the system roots plus the PEM certificates of path
// (read up to 1 MiB: a CA bundle is kilobytes). Errors do not repeat the
// path: the caller names the flag or key that gave it.
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, _, err := files.ReadAtMost(path, 1<<20)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, ErrNoPEM
	}
	return pool, nil
}

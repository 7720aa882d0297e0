package probe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ucprobe/ucprobe/internal/files"
)

// MaxSecretFile bounds a secret file (a token or password is short).
const MaxSecretFile = 4 << 10

var (
	// ErrSecretTooLarge: a secret file over MaxSecretFile.
	ErrSecretTooLarge = fmt.Errorf("larger than %d bytes; it should hold only the secret", MaxSecretFile)
	// ErrSecretNotOneLine: a secret file that is empty or holds more than
	// one line.
	ErrSecretNotOneLine = errors.New("want the secret on one line")
)

// ReadSecretFile reads the secret a file holds on one line (a trailing
// newline, LF or CRLF, allowed), at most MaxSecretFile bytes. Errors name
// neither the path (the caller names its flag or key and the file) nor
// anything the file holds.
func ReadSecretFile(path string) (Secret, error) {
	data, over, err := files.ReadAtMost(path, MaxSecretFile)
	if err != nil {
		return "", err
	}
	if over {
		return "", ErrSecretTooLarge
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return "", ErrSecretNotOneLine
	}
	return Secret(s), nil
}

package probe

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	const secret = "hunter22"
	for _, tc := range []struct {
		name, content string // content "-": no file
		want          Secret
		err           error
	}{
		{"one line", secret, secret, nil},
		{"trailing newline", secret + "\n", secret, nil},
		{"trailing CRLF", secret + "\r\n", secret, nil},
		{"several trailing newlines", secret + "\n\n", secret, nil},
		{"spaces are the secret's", " " + secret + " \n", " " + secret + " ", nil},
		{"at the bound", strings.Repeat("x", MaxSecretFile), Secret(strings.Repeat("x", MaxSecretFile)), nil},
		{"over the bound", strings.Repeat(secret, MaxSecretFile/len(secret)) + "x", "", ErrSecretTooLarge},
		{"empty", "", "", ErrSecretNotOneLine},
		{"only a newline", "\n", "", ErrSecretNotOneLine},
		{"two lines", secret + "\n" + secret + "\n", "", ErrSecretNotOneLine},
		{"a CR inside", secret + "\r" + secret, "", ErrSecretNotOneLine},
		{"no such file", "-", "", fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if tc.content != "-" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadSecretFile(path)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("ReadSecretFile = %q, %v; want %q, %v", got.Reveal(), err, tc.want.Reveal(), tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), path)) {
				t.Errorf("error %q names the secret or the path", err)
			}
		})
	}
}

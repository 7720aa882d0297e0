package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBare(t *testing.T) {
	plain := errors.New("plain")
	for _, tc := range []struct {
		name string
		in   error
		want error
	}{
		{"nil", nil, nil},
		{"a path error", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}, fs.ErrNotExist},
		{"a wrapped path error", fmt.Errorf("reading: %w", &fs.PathError{Op: "read", Path: "/x", Err: fs.ErrPermission}), fs.ErrPermission},
		{"another error", plain, plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Bare(tc.in); got != tc.want {
				t.Errorf("Bare(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestReadAtMost(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path string
		max        int64
		want       string
		over       bool
		err        error
	}{
		{"under the bound", write("small", "abc"), 4, "abc", false, nil},
		{"at the bound", write("exact", "abcd"), 4, "abcd", false, nil},
		{"over the bound", write("large", "abcdef"), 4, "abcd", true, nil},
		{"empty", write("empty", ""), 4, "", false, nil},
		{"missing", filepath.Join(dir, "nosuch"), 4, "", false, fs.ErrNotExist},
		{"a folder", dir, 4, "", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, over, err := ReadAtMost(tc.path, tc.max)
			if tc.path == dir {
				// Reading a folder fails, with the cause alone.
				if err == nil || strings.Contains(err.Error(), dir) {
					t.Fatalf("a folder: %v, want an error that does not repeat the path", err)
				}
				return
			}
			if !errors.Is(err, tc.err) || (err != nil && strings.Contains(err.Error(), tc.path)) {
				t.Fatalf("error %v, want %v without the path", err, tc.err)
			}
			if string(data) != tc.want || over != tc.over {
				t.Errorf("data %q over %v, want %q %v", data, over, tc.want, tc.over)
			}
		})
	}
}

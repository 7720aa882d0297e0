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
	for _, tc := range []struct {
		name, content string // content "-": no such file; "/": a folder
		max           int64
		want          string
		over          bool
		err           error
	}{
		{"under the bound", "abc", 4, "abc", false, nil},
		{"at the bound", "abcd", 4, "abcd", false, nil},
		{"over the bound", "abcdef", 4, "abcd", true, nil},
		{"empty", "", 4, "", false, nil},
		{"missing", "-", 4, "", false, fs.ErrNotExist},
		{"a folder", "/", 4, "", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			switch tc.content {
			case "-":
			case "/":
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			default:
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			data, over, err := ReadAtMost(path, tc.max)
			if err != nil && strings.Contains(err.Error(), path) {
				t.Errorf("error %q repeats the path", err)
			}
			if tc.content == "/" {
				// Reading a folder fails, with the cause alone.
				if err == nil {
					t.Fatal("a folder read without an error")
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if string(data) != tc.want || over != tc.over {
				t.Errorf("data %q over %v, want %q %v", data, over, tc.want, tc.over)
			}
		})
	}
}

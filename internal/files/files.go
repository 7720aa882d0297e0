// Package files reads the files a user names (profiles, probes.yaml,
// secret and CA files, saved reports) with a size bound, and words their
// errors for a message that names the file itself.
package files

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// Bare strips an *fs.PathError down to its cause ("no such file or
// directory"): the caller's message names the flag or key and the path
// once, not twice. Other errors are returned as they are.
func Bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadAtMost reads path up to max bytes. over says the file holds more
// (data is then its first max bytes, for a caller that truncates); errors
// are Bare.
func ReadAtMost(path string, max int64) (data []byte, over bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, Bare(err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, false, Bare(err)
	}
	if int64(len(data)) > max {
		return data[:max], true, nil
	}
	return data, false, nil
}

package profiles

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ucprobe/ucprobe/internal/files"
)

// MaxFileBytes caps a configuration file ucprobe reads (a profile,
// probes.yaml, a CA file it references; a secret file has its own,
// smaller cap: probe.MaxSecretFile).
// The largest built-in profile is under 5 KB; a file of megabytes is the
// wrong file, or an attempt to make the loader spend memory.
const MaxFileBytes = 1 << 20

// ErrTooLarge: a YAML file over MaxFileBytes.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads a YAML file of at most MaxFileBytes.
func ReadFile(path string) ([]byte, error) {
	data, over, err := files.ReadAtMost(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	if over {
		return nil, errTooLarge()
	}
	return data, nil
}

// CheckSize refuses data over MaxFileBytes.
func CheckSize(data []byte) error {
	if len(data) > MaxFileBytes {
		return errTooLarge()
	}
	return nil
}

func errTooLarge() error {
	return fmt.Errorf("%w: over %d KiB, the cap for a configuration file (is it the right file?)", ErrTooLarge, MaxFileBytes>>10)
}

// SecondDocument reads on from a decoder that has decoded the first
// document and reports whether another follows, and at which line (0
// when unknown): ucprobe reads one document, and a second one must not be
// ignored silently.
func SecondDocument(dec *yaml.Decoder) (line int, found bool) {
	var next yaml.Node
	err := dec.Decode(&next)
	switch {
	case errors.Is(err, io.EOF):
		return 0, false
	case err != nil: // the rest does not parse: still more than one document
		if m := yamlLine.FindStringSubmatch(strings.TrimPrefix(err.Error(), "yaml: ")); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return line, true
	}
	return next.Line, true
}

package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ucprobe/ucprobe/cause"
)

//go:generate env UCPROBE_UPDATE_DOCS=1 go test -run TestCauseDocsUpToDate .

// docs/causes.md is generated from the catalog; CI fails when a cause was
// added, renamed or reworded without regenerating it.
func TestCauseDocsUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCauseDocs(&b); err != nil {
		t.Fatal(err)
	}
	for _, c := range cause.IDs() {
		if !strings.Contains(b.String(), "## `"+string(c)+"`") {
			t.Errorf("cause %s is not in the generated docs", c)
		}
	}
	path := filepath.Join("..", "docs", "causes.md")
	if os.Getenv("UCPROBE_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Errorf("%s is stale: run 'go generate ./report' and commit it", path)
	}
}

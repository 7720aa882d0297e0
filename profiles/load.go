package profiles

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var embedded embed.FS

// ErrUnknownProfile is returned for a name that is neither embedded nor a file.
var ErrUnknownProfile = errors.New("unknown profile")

// ErrInvalid is the class of every profile validation error.
var ErrInvalid = errors.New("invalid profile")

// List returns the embedded profiles, sorted by id.
func List() ([]*Profile, error) {
	entries, err := fs.ReadDir(embedded, ".")
	if err != nil {
		return nil, err
	}
	var out []*Profile
	for _, e := range entries {
		p, err := loadEmbedded(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Profile) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Load returns an embedded profile by id, or reads a profile file when
// nameOrPath looks like a path (contains a slash or ends in .yaml/.yml).
func Load(nameOrPath string) (*Profile, error) {
	if isPath(nameOrPath) {
		data, err := ReadFile(nameOrPath)
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, nameOrPath, err)
		}
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", nameOrPath, err)
		}
		return Parse(nameOrPath, data)
	}
	if _, err := fs.Stat(embedded, nameOrPath+".yaml"); err != nil {
		all, _ := List()
		ids := make([]string, len(all))
		for i, p := range all {
			ids[i] = p.ID
		}
		hint := ""
		if c := Closest(nameOrPath, ids); c != "" {
			hint = "did you mean " + c + "? "
		}
		return nil, fmt.Errorf("%w %q (%sknown: %s; or give a path to a .yaml file)", ErrUnknownProfile, nameOrPath, hint, strings.Join(ids, ", "))
	}
	return loadEmbedded(nameOrPath + ".yaml")
}

func isPath(s string) bool {
	return strings.ContainsAny(s, `/\`) || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}

func loadEmbedded(name string) (*Profile, error) {
	data, err := embedded.ReadFile(name)
	if err != nil {
		return nil, err
	}
	p, err := Parse("embedded:"+name, data)
	if err != nil {
		return nil, fmt.Errorf("embedded profile is broken (a bug): %w", err)
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// Parse decodes and validates a profile strictly: unknown keys, wrong
// types and semantic errors are reported as "file:line: message".
func Parse(file string, data []byte) (*Profile, error) {
	if err := CheckSize(data); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, yamlError(file, err)
	}
	if line, found := SecondDocument(dec); found {
		return nil, fmt.Errorf("%w: %s:%d: a second YAML document starts here; a profile is one document (remove the '---' and what follows, or make it a file of its own)", ErrInvalid, file, line)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	p.File, p.Raw = file, data
	p.lines = lineIndex(&root)
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// yamlError rewrites yaml.v3's "line N: msg" into "file:N: msg", without
// Go type names.
func yamlError(file string, err error) error {
	return fmt.Errorf("%w: %s", ErrInvalid, YAMLMessage(file, err, typeNames))
}

// YAMLMessage is a yaml.v3 error as one line: "file:N: msg" per problem,
// joined by "; ", Go type names replaced by names. yaml quotes the
// offending value, which may span lines: whitespace runs become one space.
func YAMLMessage(file string, err error, names *strings.Replacer) string {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = strings.Join(strings.Fields(names.Replace(strings.TrimPrefix(m, "yaml: "))), " ")
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", file, sub[1], sub[2]))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", file, m))
		}
	}
	return strings.Join(out, "; ")
}

var typeNames = strings.NewReplacer(
	"in type profiles.Profile", "at the top level",
	"into profiles.Profile", "where the profile (a map) belongs",
	"in type profiles.Check", "in a check",
	"in type profiles.Variable", "in a variable",
	"in type profiles.Limits", "in limits",
	"in type profiles.Remedy", "in a remedy",
	"in type profiles.Defaults", "in defaults",
	"profiles.Duration", "duration",
	"map[string]profiles.Variable", "a map of variables",
	"map[string]profiles.Remedy", "a map of remedies",
	"[]profiles.Check", "a list of checks",
)

func lineMsg(line int, format string, args ...any) string {
	return fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)
}

// lineIndex records where each check and its fields start.
func lineIndex(root *yaml.Node) map[string]int {
	idx := map[string]int{}
	if len(root.Content) == 0 {
		return idx
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		idx[key.Value] = key.Line
		switch key.Value {
		case "checks":
			for n, c := range val.Content {
				base := "checks." + strconv.Itoa(n)
				idx[base] = c.Line
				for j := 0; j+1 < len(c.Content); j += 2 {
					idx[base+"."+c.Content[j].Value] = c.Content[j+1].Line
				}
			}
		case "variables", "remedies":
			for j := 0; j+1 < len(val.Content); j += 2 {
				idx[key.Value+"."+val.Content[j].Value] = val.Content[j].Line
			}
		}
	}
	return idx
}

// errAt formats a validation error at the line of key (or the nearest
// enclosing key that has one).
func (p *Profile) errAt(key, format string, args ...any) error {
	line := 0
	for k := key; k != ""; {
		if l, ok := p.lines[k]; ok {
			line = l
			break
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	loc := p.File
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, line)
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalid, loc, fmt.Sprintf(format, args...))
}

// DisplayName is the profile's file name without directories, for messages.
func (p *Profile) DisplayName() string {
	if strings.HasPrefix(p.File, "embedded:") {
		return p.ID
	}
	return filepath.Base(p.File)
}

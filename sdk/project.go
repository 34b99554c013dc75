package sdk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"gopkg.in/yaml.v3"
)

// ManifestFile is the name of a box project's manifest.
const ManifestFile = "box.yaml"

// Project is a box project: a directory with a box.yaml.
type Project struct {
	Dir      string `yaml:"-"`
	Name     string `yaml:"name"`
	Lang     string `yaml:"lang"`
	WIT      string `yaml:"wit"`   // WIT directory, relative to Dir
	World    string `yaml:"world"` // world to build
	Template string `yaml:"template,omitempty"`
	Tests    []Test `yaml:"tests,omitempty"`
}

// Test is one check `wbox test` runs against the built component: call an
// export with WAVE arguments and compare the WAVE result.
//
// For an HTTP box (exporting wasi:http/incoming-handler), `get: PATH`
// instead sends a GET request and compares the response body with want.
type Test struct {
	Call string   `yaml:"call,omitempty"`
	Args []string `yaml:"args,omitempty"`
	Get  string   `yaml:"get,omitempty"`
	Want string   `yaml:"want,omitempty"`
}

// Languages are the values of --lang.
var Languages = []string{"go", "c", "js", "as"}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$`)

// ValidName checks a box name: lowercase words of letters and digits joined
// by dashes, each starting with a letter (a WIT identifier and a topology
// box name at once).
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid box name %q: use lowercase words of letters and digits joined by dashes, each starting with a letter (e.g. greeter, kv-store)", name)
	}
	return nil
}

// Load reads the project in dir.
func Load(dir string) (*Project, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: not a box project (create one with `wbox new`)", dir, ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	var p Project
	dec := yaml.NewDecoder(bytesReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, ManifestFile), err)
	}
	if p.Dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if err := ValidName(p.Name); err != nil {
		return nil, fmt.Errorf("%s: %v", ManifestFile, err)
	}
	if !contains(Languages, p.Lang) {
		return nil, fmt.Errorf("%s: lang %q: want one of %v", ManifestFile, p.Lang, Languages)
	}
	if p.WIT == "" {
		p.WIT = "wit"
	}
	return &p, nil
}

// Output is the path of the component `wbox build` writes.
func (p *Project) Output() string { return filepath.Join(p.Dir, p.Name+".wasm") }

// WITDir is the absolute path of the WIT directory.
func (p *Project) WITDir() string { return filepath.Join(p.Dir, p.WIT) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

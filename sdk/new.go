package sdk

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

// NewOptions configure New.
type NewOptions struct {
	Name  string // the box name (also the WIT world and package name)
	Lang  string // go, c, js or as
	World string // the kind of world: "plain" (default)
}

// Worlds are the values of --world.
var Worlds = []string{"plain"}

var langNames = map[string]string{"go": "Go", "c": "C", "js": "JavaScript", "as": "AssemblyScript"}

// templateFiles maps a template to the file it becomes ({{name}} is
// replaced by the box name).
var templateFiles = map[string][][2]string{
	"common": {
		{"wit.wit.tmpl", "wit/{{name}}.wit"},
		{"box.yaml.tmpl", ManifestFile},
		{"topology.yaml.tmpl", "topology.yaml"},
		{"gitignore.tmpl", ".gitignore"},
		{"README.md.tmpl", "README.md"},
	},
	"go": {{"go.mod.tmpl", "go.mod"}, {"main.go.tmpl", "main.go"}, {"main_test.go.tmpl", "main_test.go"}},
	"c":  {{"box.c.tmpl", "{{name}}.c"}},
	"js": {{"box.js.tmpl", "{{name}}.js"}, {"box.test.mjs.tmpl", "{{name}}.test.mjs"}},
	"as": {{"box.ts.tmpl", "{{name}}.ts"}, {"cabi.ts.tmpl", "cabi.ts"}},
}

// New writes a new box project into dir (which must not exist or be
// empty) and returns the files it wrote, relative to dir. Go and C projects
// get their bindings (gen/) too, so editors and `go test` work at once.
func New(dir string, opts NewOptions) ([]string, error) {
	if err := ValidName(opts.Name); err != nil {
		return nil, err
	}
	if !contains(Languages, opts.Lang) {
		return nil, fmt.Errorf("unknown language %q: want one of %s", opts.Lang, strings.Join(Languages, ", "))
	}
	if opts.World == "" {
		opts.World = "plain"
	}
	if !contains(Worlds, opts.World) {
		return nil, fmt.Errorf("unknown world %q: want one of %s", opts.World, strings.Join(Worlds, ", "))
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data := map[string]string{
		"Name":     opts.Name,
		"Lang":     opts.Lang,
		"LangName": langNames[opts.Lang],
		"GoPkg":    strings.ReplaceAll(opts.Name, "-", ""),
		"Export":   "local:" + opts.Name + "/greet@0.1.0#greet",
	}
	var wrote []string
	for _, group := range []string{"common", opts.Lang} {
		for _, tf := range templateFiles[group] {
			src, err := templates.ReadFile("templates/" + group + "/" + tf[0])
			if err != nil {
				return nil, err
			}
			t, err := template.New(tf[0]).Parse(string(src))
			if err != nil {
				return nil, err
			}
			var b bytes.Buffer
			if err := t.Execute(&b, data); err != nil {
				return nil, err
			}
			name := strings.ReplaceAll(tf[1], "{{name}}", opts.Name)
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				return nil, err
			}
			wrote = append(wrote, name)
		}
	}
	if opts.Lang == "go" || opts.Lang == "c" {
		p, err := Load(dir)
		if err != nil {
			return nil, err
		}
		gen := GenerateGo
		if opts.Lang == "c" {
			gen = GenerateC
		}
		if err := gen(p, true); err != nil {
			return nil, err
		}
		wrote = append(wrote, "gen/")
	}
	return wrote, nil
}

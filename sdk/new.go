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

// Worlds are the values of --world: plain exports greet(name) -> string
// and imports nothing; kv exports a visit counter, hit(name) -> u32, kept
// in the node's key-value store (an import of wbox:kv/store bound to the
// kv driver by the topology); http exports wasi:http/incoming-handler,
// served by the HTTP driver.
var Worlds = []string{"plain", "kv", "http"}

// worldLangs limits worlds to the languages that have templates for them.
var worldLangs = map[string][]string{}

var langNames = map[string]string{"go": "Go", "c": "C", "js": "JavaScript", "as": "AssemblyScript"}

// templateFiles maps a world/group to its templates and the files they
// become ({{name}} is replaced by the box name).
var templateFiles = map[string][][2]string{
	"plain/common": {
		{"common/wit.wit.tmpl", "wit/{{name}}.wit"},
		{"common/box.yaml.tmpl", ManifestFile},
		{"common/topology.yaml.tmpl", "topology.yaml"},
	},
	"plain/go": {{"go/go.mod.tmpl", "go.mod"}, {"go/main.go.tmpl", "main.go"}, {"go/main_test.go.tmpl", "main_test.go"}},
	"plain/c":  {{"c/box.c.tmpl", "{{name}}.c"}},
	"plain/js": {{"js/box.js.tmpl", "{{name}}.js"}, {"js/box.test.mjs.tmpl", "{{name}}.test.mjs"}},
	"plain/as": {{"as/box.ts.tmpl", "{{name}}.ts"}},
	"kv/common": {
		{"kv/common/wit.wit.tmpl", "wit/{{name}}.wit"},
		{"kv/common/wbox-kv.wit.tmpl", "wit/deps/kv/wbox-kv.wit"},
		{"kv/common/box.yaml.tmpl", ManifestFile},
		{"kv/common/topology.yaml.tmpl", "topology.yaml"},
	},
	"kv/go": {{"go/go.mod.tmpl", "go.mod"}, {"kv/go/main.go.tmpl", "main.go"}, {"kv/go/main_test.go.tmpl", "main_test.go"}},
	"kv/c":  {{"kv/c/box.c.tmpl", "{{name}}.c"}},
	"kv/js": {{"kv/js/box.js.tmpl", "{{name}}.js"}},
	"kv/as": {{"kv/as/box.ts.tmpl", "{{name}}.ts"}},
	"http/common": {
		{"http/common/wit.wit.tmpl", "wit/{{name}}.wit"},
		{"http/common/box.yaml.tmpl", ManifestFile},
		{"http/common/topology.yaml.tmpl", "topology.yaml"},
	},
	"http/go": {{"go/go.mod.tmpl", "go.mod"}, {"http/go/main.go.tmpl", "main.go"}, {"http/go/main_test.go.tmpl", "main_test.go"}},
	"http/js": {{"http/js/box.js.tmpl", "{{name}}.js"}},
	"http/c":  {{"http/c/box.c.tmpl", "{{name}}.c"}},
	"http/as": {{"http/as/box.ts.tmpl", "{{name}}.ts"}},
	"common": {
		{"common/gitignore.tmpl", ".gitignore"},
		{"common/README.md.tmpl", "README.md"},
	},
}

// New writes a new box project into dir (which must not exist or be
// empty) and returns the files it wrote, relative to dir. Go, C and AssemblyScript projects
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
	if ls, ok := worldLangs[opts.World]; ok && !contains(ls, opts.Lang) {
		return nil, fmt.Errorf("the %s world has templates for %s only", opts.World, strings.Join(ls, " and "))
	}
	var deps map[string][]byte
	if opts.World == "http" {
		nm, err := NodeModules(dir)
		if err != nil {
			return nil, err
		}
		if deps, err = wasiHTTPDeps(nm); err != nil {
			return nil, err
		}
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
		"Func":     "greet",
		"Arg":      `'"Ada"'`,
	}
	switch opts.World {
	case "kv":
		data["Export"], data["Func"] = "local:"+opts.Name+"/counter@0.1.0#hit", "hit"
	case "http":
		data["Export"], data["Func"] = "wasi:http/incoming-handler@0.2.10#handle", "handle"
	}
	var wrote []string
	for _, group := range []string{opts.World + "/common", opts.World + "/" + opts.Lang, "common"} {
		for _, tf := range templateFiles[group] {
			src, err := templates.ReadFile("templates/" + tf[0])
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
	for name, data := range deps {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		wrote = append(wrote, name)
	}
	if opts.Lang != "js" {
		p, err := Load(dir)
		if err != nil {
			return nil, err
		}
		gen := map[string]func(*Project, bool) error{"go": GenerateGo, "c": GenerateC, "as": GenerateAS}[opts.Lang]
		if err := gen(p, true); err != nil {
			return nil, err
		}
		wrote = append(wrote, "gen/")
	}
	return wrote, nil
}

// wasiHTTPDeps returns wit/deps for the http world: wasi:http, wasi:io and
// wasi:clocks from jco's bundled WASI 0.2.12 WIT, renamed to 0.2.10 (the
// version StarlingMonkey implements; these interfaces did not change) and
// without their worlds (which would pull in packages the engine does not
// match).
func wasiHTTPDeps(nm string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, p := range []string{"clocks", "http", "io"} {
		src := filepath.Join(nm, "@bytecodealliance", "jco", "lib", "wit", "builtin", "0.2.12", "wasi-"+p, "package.wit")
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, &ToolError{"jco", fmt.Sprintf("jco's WASI WIT (%s): %v: %s", src, err, npmHint)}
		}
		var b strings.Builder
		skip := false
		for _, line := range strings.SplitAfter(strings.ReplaceAll(string(data), "@0.2.12", "@0.2.10"), "\n") {
			if strings.HasPrefix(line, "world ") {
				skip = true
			}
			if !skip {
				b.WriteString(line)
			}
			if skip && strings.HasPrefix(line, "}") {
				skip = false
			}
		}
		out["wit/deps/wasi-"+p+"/package.wit"] = []byte(b.String())
	}
	return out, nil
}

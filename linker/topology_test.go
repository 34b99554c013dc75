package linker

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

func TestParseFull(t *testing.T) {
	src := `# every key
boxes:
  web:
    component: web.wasm
    digest: sha256:` + strings.Repeat("ab", 32) + `
    config:
      greeting: hi
      port: 8080
    instances: 2
    limits:
      memory: 64MiB
      call-timeout: 2s
      max-in-flight: 64
    restart:
      policy: on-failure
      backoff: 100ms
      max-backoff: 30s
    wasi:
      stdout: true
      stderr: false
      env: {LANG: C}
      args: [web, --verbose]
      dirs:
        - {host: ./data, guest: /data, readonly: true}
        - host: /abs
          guest: /abs
  other:
    component: sha256:` + strings.Repeat("cd", 32) + `
drivers:
  kv:
    kind: kv
    file: kv.json
    nested: {a: [1, 2]}
arrows:
  - from: web.wasi:keyvalue/store@0.2.0-draft
    to: kv.wasi:keyvalue/store@0.2.0-draft
  - {from: web.wbox:demo/greet@0.1.0, to: other}
`
	topo, err := Parse("t.yaml", "/top", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	web := topo.Boxes[0]
	want := &Box{
		Name: "web", Pos: Pos{"t.yaml", 3, 3},
		Component: "web.wasm", ComponentPos: Pos{"t.yaml", 4, 16},
		Digest: "sha256:" + strings.Repeat("ab", 32), DigestPos: Pos{"t.yaml", 5, 13},
		Config:    map[string]string{"greeting": "hi", "port": "8080"},
		Instances: 2,
		Limits:    kernel.Limits{MemoryBytes: 64 << 20, CallTimeout: 2 * time.Second, MaxInFlight: 64},
		Restart:   kernel.RestartPolicy{Mode: "on-failure", Backoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second},
		WASI: kernel.WASIGrants{
			Stdout: true, Env: map[string]string{"LANG": "C"}, Args: []string{"web", "--verbose"},
			Dirs: []kernel.DirGrant{{HostDir: "/top/data", GuestPath: "/data", ReadOnly: true}, {HostDir: "/abs", GuestPath: "/abs"}},
		},
		DirsPos: []Pos{{"t.yaml", 24, 11}, {"t.yaml", 25, 11}},
	}
	if !reflect.DeepEqual(web, want) {
		t.Errorf("web =\n%+v\nwant\n%+v", web, want)
	}
	if o := topo.Boxes[1]; o.Component != "sha256:"+strings.Repeat("cd", 32) || o.Instances != 1 {
		t.Errorf("other = %+v", o)
	}
	d := topo.Drivers[0]
	if d.Name != "kv" || d.Kind != "kv" || d.Settings["file"] != "kv.json" || !reflect.DeepEqual(d.Settings["nested"], map[string]any{"a": []any{1, 2}}) {
		t.Errorf("driver = %+v", d)
	}
	a := topo.Arrows[0]
	if a.FromTask != "web" || a.Import != "wasi:keyvalue/store@0.2.0-draft" || a.ToTask != "kv" || a.Export != "wasi:keyvalue/store@0.2.0-draft" ||
		a.Pos != (Pos{"t.yaml", 35, 5}) || a.FromPos != (Pos{"t.yaml", 35, 11}) || a.ToPos != (Pos{"t.yaml", 36, 9}) {
		t.Errorf("arrow 0 = %#v", *a)
	}
	if a := topo.Arrows[1]; a.ToTask != "other" || a.Export != "" {
		t.Errorf("arrow 1 = %+v", a)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"malformed", "boxes:\n  web:\n    component: a.wasm\n  - oops\n", []string{
			"topology.yaml:4: malformed YAML: did not find expected key",
		}},
		{"tab indent", "boxes:\n\tweb: {}\n", []string{
			"topology.yaml:2: malformed YAML: found character that cannot start any token",
		}},
		{"empty", "", []string{"topology.yaml: empty topology: expected a mapping with boxes, drivers and arrows"}},
		{"only comments", "# nothing\n", []string{"topology.yaml: empty topology: expected a mapping with boxes, drivers and arrows"}},
		{"not a mapping", "- a\n- b\n", []string{`topology.yaml:1:1: the topology must be a mapping, not a list`}},
		{"two documents", "boxes: {}\n---\nboxes: {}\n", []string{"topology.yaml:2:1: a topology file holds one YAML document; found a second"}},
		{"unknown top key", "boxes: {}\narows: []\n", []string{
			`topology.yaml:2:1: unknown key "arows" in the topology (did you mean "arrows"?) (allowed: boxes, drivers, arrows)`,
		}},
		{"misspelt component", "boxes:\n  web:\n    comonent: b.wasm\n", []string{
			`topology.yaml:3:5: unknown key "comonent" in box "web" (did you mean "component"?) (allowed: component, digest, config, instances, limits, restart, wasi, placement, http, fresh)`,
		}},
		{"unknown box key", "boxes:\n  web:\n    component: a.wasm\n    comonent: b.wasm\n", []string{
			`topology.yaml:4:5: unknown key "comonent" in box "web" (did you mean "component"?) (allowed: component, digest, config, instances, limits, restart, wasi, placement, http, fresh)`,
		}},
		{"unknown limits key", "boxes:\n  web:\n    component: a.wasm\n    limits: {memroy: 1MiB, timeout: 1s}\n", []string{
			`topology.yaml:4:14: unknown key "memroy" in box "web" limits (did you mean "memory"?) (allowed: memory, call-timeout, max-in-flight)`,
			`topology.yaml:4:28: unknown key "timeout" in box "web" limits (allowed: memory, call-timeout, max-in-flight)`,
		}},
		{"unknown arrow key", "arrows:\n  - from: a.b:c/d\n    too: b\n", []string{
			`topology.yaml:2:5: the arrow has no to: TASK[.INTERFACE]`,
			`topology.yaml:3:5: unknown key "too" in an arrow (did you mean "to"?) (allowed: from, to)`,
		}},
		{"unknown wasi dir key", "boxes:\n  web:\n    component: a.wasm\n    wasi:\n      dirs: [{host: ., guest: /d, ro: true}]\n", []string{
			`topology.yaml:5:35: unknown key "ro" in a wasi dir (allowed: host, guest, readonly)`,
		}},
		{"duplicate box", "boxes:\n  web:\n    component: a.wasm\n  web:\n    component: b.wasm\n", []string{
			`topology.yaml:4:3: boxes: duplicate key "web" (first at line 2)`,
		}},
		{"duplicate key", "boxes:\n  web:\n    component: a.wasm\n    component: b.wasm\n", []string{
			`topology.yaml:4:5: box "web": duplicate key "component" (first at line 3)`,
		}},
		{"box and driver same name", "boxes:\n  kv:\n    component: a.wasm\ndrivers:\n  kv: {kind: kv}\n", []string{
			`topology.yaml:5:3: driver "kv": the name is already used at line 2 (boxes and drivers share one namespace)`,
		}},
		{"bad names", "boxes:\n  Web.app:\n    component: a.wasm\ndrivers:\n  kv_1: {kind: kv}\n", []string{
			`topology.yaml:2:3: box name "Web.app" must be lowercase letters, digits and single dashes, starting with a letter (like web or kv-store)`,
			`topology.yaml:5:3: driver name "kv_1" must be lowercase letters, digits and single dashes, starting with a letter (like web or kv-store)`,
		}},
		{"no component", "boxes:\n  web:\n    instances: 2\n  db:\n", []string{
			`topology.yaml:2:3: box "web" has no component: give a path to a .wasm file or a sha256: digest`,
			`topology.yaml:4:3: box "db" has no component: give a path to a .wasm file or a sha256: digest`,
		}},
		{"box not a mapping", "boxes:\n  web: web.wasm\n", []string{
			`topology.yaml:2:8: box "web" must be a mapping with at least component: PATH, not "web.wasm"`,
		}},
		{"bad values", `boxes:
  web:
    component: [a]
    digest: sha256:abc
    instances: 0
    config: {a: [1]}
    limits: {memory: 12 parsecs, call-timeout: soon, max-in-flight: many}
    restart: {policy: alway, backoff: 1m, max-backoff: 1s}
    wasi: {stdout: yes please, env: {A: {b: c}}, args: x, dirs: {}}
`, []string{
			`topology.yaml:3:16: component must be a string, not a list`,
			`topology.yaml:4:13: digest "sha256:abc" must be sha256: followed by 64 lowercase hex digits`,
			`topology.yaml:5:16: instances must be between 1 and 1024, not 0`,
			`topology.yaml:6:17: config value "a" must be a string, not a list`,
			`topology.yaml:7:22: memory: "12 parsecs" is not a size such as 64MiB, 512KiB or 1GiB`,
			`topology.yaml:7:48: call-timeout must be a positive duration such as 500ms, 2s or 1m, not "soon"`,
			`topology.yaml:7:69: max-in-flight must be a whole number, not "many"`,
			`topology.yaml:8:23: restart policy must be always, on-failure or never, not "alway" (did you mean "always"?)`,
			`topology.yaml:8:39: backoff 1m0s is longer than max-backoff 1s`,
			`topology.yaml:9:20: stdout must be true or false, not "yes please"`,
			`topology.yaml:9:41: env value "A" must be a string, not a mapping`,
			`topology.yaml:9:56: args must be a list of strings, not "x"`,
			`topology.yaml:9:65: dirs must be a list of {host: DIR, guest: /PATH, readonly: BOOL}, not a mapping`,
		}},
		{"memory out of range", "boxes:\n  web:\n    component: a.wasm\n    limits: {memory: 1KiB}\n", []string{
			`topology.yaml:4:22: memory must be between 64KiB and 4GiB, not 1KiB`,
		}},
		{"wasi dir", "boxes:\n  web:\n    component: a.wasm\n    wasi:\n      dirs: [{host: ., guest: data}, {guest: /x}]\n", []string{
			`topology.yaml:5:31: guest path "data" must be absolute (start with /)`,
			`topology.yaml:5:38: a wasi dir needs both host and guest`,
		}},
		{"driver without kind", "drivers:\n  kv: {file: x}\n  db: x\n", []string{
			`topology.yaml:2:3: driver "kv" has no kind (such as kind: kv)`,
			`topology.yaml:3:7: driver "db" must be a mapping with at least kind: KIND, not "x"`,
		}},
		{"bad arrows", `arrows:
  - from: web
    to: kv
  - from: web.not an interface
    to: kv.bad iface
  - just a string
arrows2: x
`, []string{
			`topology.yaml:2:11: from "web" must be BOX.INTERFACE, such as web.wasi:keyvalue/store@0.2.0-draft`,
			`topology.yaml:4:11: from "web.not an interface": "not an interface" is not an interface name such as wasi:keyvalue/store@0.2.0-draft`,
			`topology.yaml:5:9: to "kv.bad iface": "bad iface" is not an interface name such as wasi:keyvalue/store@0.2.0-draft`,
			`topology.yaml:6:5: an arrow must be a mapping, not "just a string"`,
			`topology.yaml:7:1: unknown key "arrows2" in the topology (did you mean "arrows"?) (allowed: boxes, drivers, arrows)`,
		}},
		{"arrows not a list", "arrows: {from: a.b:c/d, to: e}\n", []string{
			`topology.yaml:1:9: arrows must be a list of {from: BOX.INTERFACE, to: TASK[.INTERFACE]}, not a mapping`,
		}},
		{"aliases", "boxes:\n  web: &w\n    component: a.wasm\n  web2: *w\n", []string{
			`topology.yaml:4:9: YAML aliases (*w) are not supported in a topology`,
		}},
		{"digest contradicts", "boxes:\n  web:\n    component: sha256:" + strings.Repeat("1", 64) + "\n    digest: sha256:" + strings.Repeat("2", 64) + "\n", []string{
			`topology.yaml:4:13: digest sha256:` + strings.Repeat("2", 64) + ` contradicts component sha256:` + strings.Repeat("1", 64),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("topology.yaml", "/top", []byte(tc.src))
			checkErrors(t, err, tc.want)
		})
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, []byte("boxes:\n  web:\n    component: w.wasm\n    wasi: {dirs: [{host: data, guest: /data}]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	topo, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if topo.Dir != dir || topo.File != path || topo.Boxes[0].WASI.Dirs[0].HostDir != filepath.Join(dir, "data") {
		t.Errorf("topo = %+v", topo)
	}
	big := make([]byte, MaxFileSize+1)
	for i := range big {
		big[i] = '#'
	}
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]uint64{"65536": 65536, "64KiB": 64 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30, "1 MB": 1e6, "10B": 10} {
		if got, err := ParseSize(s); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "MiB", "1.5GiB", "-1", "1TiB", "99999999999999999999", "18446744073709551615GiB"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) succeeded", s)
		}
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"frnt", ` (did you mean "front"?)`},
		{"greter", ` (did you mean "greeter"?)`},
		{"xyz", ""},
		{"kv", ""}, // exact names are not suggested to themselves by callers; distance 2 > limit 1 for short names
	} {
		if got := suggest(tc.name, []string{"front", "greeter", "counter"}); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

package linker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wbox-dev/wbox/kernel"
)

// Topology is a parsed topology file: what the user asked for, with the
// position of every part, before any component is loaded.
type Topology struct {
	// File is the name positions use (the path as the user gave it); Dir is
	// the absolute directory that relative paths are resolved against.
	File, Dir string
	Boxes     []*Box
	Drivers   []*Driver
	Arrows    []*Arrow
}

// Box is one entry of `boxes`.
type Box struct {
	Name string
	Pos  Pos // of the name
	// Component is the path as written (relative to the topology's
	// directory) or a "sha256:<hex>" content address.
	Component    string
	ComponentPos Pos
	// Digest, when set, pins the content of a component path.
	Digest    string
	DigestPos Pos
	Config    map[string]string
	// Instances is the pool size, 1 unless given.
	Instances int
	Limits    kernel.Limits
	Restart   kernel.RestartPolicy
	// WASI grants; directory host paths are made absolute.
	WASI    kernel.WASIGrants
	DirsPos []Pos // position of each of WASI.Dirs
	// HTTP are the box's wasi:http grants: the hosts its outgoing
	// requests may reach.
	HTTP kernel.HTTPGrants
	// Fresh is fresh: true|false, nil when not given (the kernel decides:
	// fresh for StarlingMonkey fetch handlers).
	Fresh *bool
	// Placement restricts the nodes of a cluster the box may run on.
	Placement Placement
}

// Driver is one entry of `drivers`.
type Driver struct {
	Name     string
	Pos      Pos
	Kind     string
	KindPos  Pos
	Settings map[string]any
	// Placement restricts the nodes of a cluster the driver may run on
	// (the `placement` key, not a setting).
	Placement Placement
	// SettingPos is the position of every setting and every part of one,
	// by path: "listen", "routes", "routes[2]", "routes[2].box".
	SettingPos map[string]Pos
}

// Arrow is one entry of `arrows`: From is "box.interface", To is
// "task.interface" or just "task".
type Arrow struct {
	Pos              Pos // of the list item
	From, To         string
	FromPos, ToPos   Pos
	FromTask, Import string // From split at its first "."
	ToTask, Export   string // Export is "" when To names only the task
}

func (a *Arrow) String() string { return a.From + " -> " + a.To }

// MaxFileSize bounds a topology file; anything larger is not a topology.
const MaxFileSize = 1 << 20

// ParseFile reads and parses a topology file. Positions name the file as
// path is written.
func ParseFile(path string) (*Topology, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	return Parse(path, dir, data)
}

var (
	nameRE  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	ifaceRE = regexp.MustCompile(`^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)+(@[0-9A-Za-z.+-]+)?$`)
	hexRE   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// Parse parses a topology. name is used in positions; dir is the directory
// relative paths are resolved against. A malformed file returns Errors
// listing every problem found, each with its position.
func Parse(name, dir string, data []byte) (*Topology, error) {
	p := &parser{file: name}
	if len(data) > MaxFileSize {
		return nil, Errors{{Pos: Pos{File: name}, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{Pos: Pos{File: name}, Msg: "empty topology: expected a mapping with boxes, drivers and arrows"}}
		}
		return nil, Errors{syntaxError(name, data, err)}
	}
	var extra yaml.Node
	if err := safeDecode(dec, &extra); err == nil {
		return nil, Errors{{Pos: p.pos(&extra), Msg: "a topology file holds one YAML document; found a second"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{syntaxError(name, data, err)}
	}
	if p.noAliases(&doc); len(p.errs.errs) > 0 {
		return nil, p.errs.err()
	}
	t := &Topology{File: name, Dir: dir}
	p.topology(t, &doc)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	resolveDriverDirs(t)
	return t, nil
}

// safeDecode decodes the next document. yaml.v3 has panicked on hostile
// input before; a topology file is untrusted, so a bug there must be an
// error, not a crash.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failure: %v", r)
		}
	}()
	return dec.Decode(n)
}

func safeNodeDecode(n *yaml.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: decoder failure: %v", r)
		}
	}()
	return n.Decode(v)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 error ("yaml: line 3: did not find expected
// key") into a positioned Error. yaml.v3 reports lines only, and for parser
// errors the line of the enclosing construct ("while parsing a block
// mapping" at line 1) rather than of the problem, which is found by parsing
// prefixes of the file until one fails the same way.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{Pos: Pos{File: file}, Msg: "malformed YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	// ends[k-1] is the offset just past line k.
	var ends []int
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			off = len(data)
		} else {
			off += i + 1
		}
		ends = append(ends, off)
	}
	fails := func(k int) bool {
		var n yaml.Node
		e := safeDecode(yaml.NewDecoder(bytes.NewReader(data[:ends[k-1]])), &n)
		pm := yamlLineRE.FindStringSubmatch(fmt.Sprint(e))
		return pm != nil && pm[2] == m[2]
	}
	// Binary search for the first line whose prefix fails the same way
	// (prefixes of a file are not always well-formed when the whole is, so
	// this finds a line where the failure appears, at or after the
	// enclosing construct's).
	if line >= 1 && line <= len(ends) {
		lo, hi := line, len(ends)
		if fails(hi) {
			for lo < hi {
				mid := (lo + hi) / 2
				if fails(mid) {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			line = lo
		}
	}
	return &Error{Pos: Pos{File: file, Line: line}, Msg: "malformed YAML: " + m[2]}
}

type parser struct {
	file string
	errs errList
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Col: n.Column} }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs.add(p.pos(n), format, args...)
}

// noAliases rejects YAML aliases: nothing in a topology needs them, and
// expanding them is how a small file becomes a huge one.
func (p *parser) noAliases(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n, "YAML aliases (*%s) are not supported in a topology", n.Value)
		return
	}
	for _, c := range n.Content {
		p.noAliases(c)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!int":
			return "the number " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected YAML node"
}

// field is one allowed key of a mapping.
type field struct {
	name string
	fn   func(key, val *yaml.Node)
}

// mapping walks a mapping node's keys in order, calling the field's
// function; unknown and duplicate keys are errors. what names the mapping in
// messages ("box \"web\"").
func (p *parser) mapping(n *yaml.Node, what string, fields []field) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, not %s", what, describe(n))
		return
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.name)
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be plain names, not %s", what, describe(k))
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			p.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		var fn func(k, v *yaml.Node)
		for _, f := range fields {
			if f.name == k.Value {
				fn = f.fn
			}
		}
		if fn == nil {
			p.errorf(k, "unknown key %q in %s%s (allowed: %s)", k.Value, what, suggest(k.Value, names), strings.Join(names, ", "))
			continue
		}
		fn(k, v)
	}
}

// entries walks a mapping of names to values (boxes, drivers, env, config).
func (p *parser) entries(n *yaml.Node, what string, fn func(key, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return // "boxes:" with nothing under it
		}
		p.errorf(n, "%s must be a mapping, not %s", what, describe(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be plain names, not %s", what, describe(k))
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			p.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		fn(k, v)
	}
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string, not %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false, not %s", what, describe(n))
	}
	return b
}

func (p *parser) integer(n *yaml.Node, what string, lo, hi int) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		p.errorf(n, "%s must be a whole number, not %s", what, describe(n))
		return 0
	}
	if i < lo || i > hi {
		p.errorf(n, "%s must be between %d and %d, not %d", what, lo, hi, i)
		return 0
	}
	return i
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	s, ok := p.str(n, what)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errorf(n, "%s must be a positive duration such as 500ms, 2s or 1m, not %s", what, describe(n))
		return 0
	}
	return d
}

var sizeRE = regexp.MustCompile(`^([0-9]+)\s*([KMG]i?B|B)?$`)

// ParseSize parses a byte size: 65536, 64KiB, 64MiB, 1GiB (or the decimal
// KB, MB, GB).
func ParseSize(s string) (uint64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size such as 64MiB, 512KiB or 1GiB", s)
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	mult := map[string]uint64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[2]]
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}

func (p *parser) topology(t *Topology, doc *yaml.Node) {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			p.errorf(doc, "empty topology: expected a mapping with boxes, drivers and arrows")
			return
		}
		root = doc.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		p.errorf(root, "empty topology: expected a mapping with boxes, drivers and arrows")
		return
	}
	p.mapping(root, "the topology", []field{
		{"boxes", func(_, v *yaml.Node) {
			p.entries(v, "boxes", func(k, v *yaml.Node) { t.Boxes = append(t.Boxes, p.box(t, k, v)) })
		}},
		{"drivers", func(_, v *yaml.Node) {
			p.entries(v, "drivers", func(k, v *yaml.Node) { t.Drivers = append(t.Drivers, p.driver(k, v)) })
		}},
		{"arrows", func(_, v *yaml.Node) { p.arrows(t, v) }},
	})
	// Boxes and drivers share one namespace: arrows name either.
	seen := map[string]Pos{}
	check := func(name string, pos Pos, kind string) {
		if prev, ok := seen[name]; ok {
			p.errs.add(pos, "%s %q: the name is already used at line %d (boxes and drivers share one namespace)", kind, name, prev.Line)
			return
		}
		seen[name] = pos
	}
	for _, b := range t.Boxes {
		check(b.Name, b.Pos, "box")
	}
	for _, d := range t.Drivers {
		check(d.Name, d.Pos, "driver")
	}
}

func (p *parser) taskName(k *yaml.Node, kind string) string {
	if !nameRE.MatchString(k.Value) {
		p.errorf(k, "%s name %q must be lowercase letters, digits and single dashes, starting with a letter (like web or kv-store)", kind, k.Value)
	}
	return k.Value
}

func (p *parser) box(t *Topology, k, v *yaml.Node) *Box {
	b := &Box{Name: p.taskName(k, "box"), Pos: p.pos(k), Instances: 1}
	what := fmt.Sprintf("box %q", b.Name)
	if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		p.errorf(v, "%s must be a mapping with at least component: PATH, not %s", what, describe(v))
		return b
	}
	if v.Kind == yaml.MappingNode {
		p.mapping(v, what, []field{
			{"component", func(_, v *yaml.Node) {
				b.ComponentPos = p.pos(v)
				if s, ok := p.str(v, "component"); ok {
					switch {
					case s == "":
						p.errorf(v, "component must be a path or a sha256: digest, not empty")
					case strings.HasPrefix(s, "sha256:") && !hexRE.MatchString(s):
						p.errorf(v, "component %q: a digest is sha256: followed by 64 lowercase hex digits", s)
					}
					b.Component = s
				}
			}},
			{"digest", func(_, v *yaml.Node) {
				b.DigestPos = p.pos(v)
				if s, ok := p.str(v, "digest"); ok {
					if !hexRE.MatchString(s) {
						p.errorf(v, "digest %q must be sha256: followed by 64 lowercase hex digits", s)
					}
					b.Digest = s
				}
			}},
			{"config", func(_, v *yaml.Node) {
				b.Config = map[string]string{}
				p.entries(v, what+" config", func(k, v *yaml.Node) {
					if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
						p.errorf(v, "config value %q must be a string, not %s", k.Value, describe(v))
						return
					}
					b.Config[k.Value] = v.Value
				})
			}},
			{"instances", func(_, v *yaml.Node) { b.Instances = p.integer(v, "instances", 1, 1024) }},
			{"limits", func(_, v *yaml.Node) { p.limits(&b.Limits, v, what+" limits") }},
			{"restart", func(_, v *yaml.Node) { p.restart(&b.Restart, v, what+" restart") }},
			{"wasi", func(_, v *yaml.Node) { p.wasi(t, b, v, what+" wasi") }},
			{"placement", func(_, v *yaml.Node) { p.placement(&b.Placement, v, what+" placement") }},
			{"http", func(_, v *yaml.Node) { p.http(b, v, what+" http") }},
			{"fresh", func(_, v *yaml.Node) { f := p.boolean(v, "fresh"); b.Fresh = &f }},
		})
	}
	if b.Component == "" && b.ComponentPos.Line == 0 && !misspelt(v, "component") {
		p.errorf(k, "%s has no component: give a path to a .wasm file or a sha256: digest", what)
	}
	if b.Digest != "" && strings.HasPrefix(b.Component, "sha256:") && b.Component != b.Digest {
		p.errs.add(b.DigestPos, "digest %s contradicts component %s", b.Digest, b.Component)
	}
	return b
}

// misspelt reports whether mapping n has a key that is a misspelling of
// key (already reported as unknown, with the suggestion).
func misspelt(n *yaml.Node, key string) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != key && suggest(k, []string{key}) != "" {
			return true
		}
	}
	return false
}

func (p *parser) limits(l *kernel.Limits, n *yaml.Node, what string) {
	p.mapping(n, what, []field{
		{"memory", func(_, v *yaml.Node) {
			var s string
			if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
				s = v.Value
			} else if x, ok := p.str(v, "memory"); ok {
				s = x
			} else {
				return
			}
			size, err := ParseSize(s)
			switch {
			case err != nil:
				p.errorf(v, "memory: %v", err)
			case size < 64<<10 || size > 4<<30:
				p.errorf(v, "memory must be between 64KiB and 4GiB, not %s", s)
			default:
				l.MemoryBytes = size
			}
		}},
		{"call-timeout", func(_, v *yaml.Node) { l.CallTimeout = p.duration(v, "call-timeout") }},
		{"max-in-flight", func(_, v *yaml.Node) { l.MaxInFlight = p.integer(v, "max-in-flight", 1, 1<<20) }},
	})
}

func (p *parser) restart(r *kernel.RestartPolicy, n *yaml.Node, what string) {
	var backoffPos Pos
	p.mapping(n, what, []field{
		{"policy", func(_, v *yaml.Node) {
			s, ok := p.str(v, "policy")
			if !ok {
				return
			}
			switch s {
			case "always", "on-failure", "never":
				r.Mode = s
			default:
				p.errorf(v, "restart policy must be always, on-failure or never, not %q%s", s, suggest(s, []string{"always", "on-failure", "never"}))
			}
		}},
		{"backoff", func(_, v *yaml.Node) { backoffPos = p.pos(v); r.Backoff = p.duration(v, "backoff") }},
		{"max-backoff", func(_, v *yaml.Node) { r.MaxBackoff = p.duration(v, "max-backoff") }},
	})
	if r.Backoff > 0 && r.MaxBackoff > 0 && r.Backoff > r.MaxBackoff {
		p.errs.add(backoffPos, "backoff %s is longer than max-backoff %s", r.Backoff, r.MaxBackoff)
	}
}

func (p *parser) wasi(t *Topology, b *Box, n *yaml.Node, what string) {
	w := &b.WASI
	p.mapping(n, what, []field{
		{"stdout", func(_, v *yaml.Node) { w.Stdout = p.boolean(v, "stdout") }},
		{"stderr", func(_, v *yaml.Node) { w.Stderr = p.boolean(v, "stderr") }},
		{"env", func(_, v *yaml.Node) {
			w.Env = map[string]string{}
			p.entries(v, "env", func(k, v *yaml.Node) {
				if k.Value == "" || strings.ContainsAny(k.Value, "=\x00") {
					p.errorf(k, "environment variable name %q must be non-empty without = or NUL", k.Value)
				}
				if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
					p.errorf(v, "env value %q must be a string, not %s", k.Value, describe(v))
					return
				}
				w.Env[k.Value] = v.Value
			})
		}},
		{"args", func(_, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "args must be a list of strings, not %s", describe(v))
				return
			}
			for _, a := range v.Content {
				if s, ok := p.str(a, "each of args"); ok {
					w.Args = append(w.Args, s)
				}
			}
		}},
		{"dirs", func(_, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "dirs must be a list of {host: DIR, guest: /PATH, readonly: BOOL}, not %s", describe(v))
				return
			}
			for _, item := range v.Content {
				var d kernel.DirGrant
				var hostSet, guestSet bool
				p.mapping(item, "a wasi dir", []field{
					{"host", func(_, v *yaml.Node) {
						if s, ok := p.str(v, "host"); ok && s != "" {
							hostSet = true
							if !filepath.IsAbs(s) {
								s = filepath.Join(t.Dir, s)
							}
							d.HostDir = filepath.Clean(s)
						}
					}},
					{"guest", func(_, v *yaml.Node) {
						if s, ok := p.str(v, "guest"); ok {
							guestSet = true
							if !strings.HasPrefix(s, "/") {
								p.errorf(v, "guest path %q must be absolute (start with /)", s)
							}
							d.GuestPath = s
						}
					}},
					{"readonly", func(_, v *yaml.Node) { d.ReadOnly = p.boolean(v, "readonly") }},
				})
				if item.Kind == yaml.MappingNode && (!hostSet || !guestSet) {
					p.errorf(item, "a wasi dir needs both host and guest")
				}
				w.Dirs = append(w.Dirs, d)
				b.DirsPos = append(b.DirsPos, p.pos(item))
			}
		}},
	})
}

// allowRE matches an http allow-list entry: a host name or IP address,
// optionally "*." before a domain, optionally a port; "*" is anywhere.
var allowRE = regexp.MustCompile(`^(\*|(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?)$`)

func (p *parser) http(b *Box, n *yaml.Node, what string) {
	p.mapping(n, what, []field{
		{"allow", func(_, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "http allow must be a list of hosts (api.example.com, \"*.example.org\", localhost:8080), not %s", describe(v))
				return
			}
			b.HTTP.Allow = []string{}
			for _, item := range v.Content {
				s, ok := p.str(item, "each http allow entry")
				if !ok {
					continue
				}
				if !allowRE.MatchString(s) {
					p.errorf(item, "http allow entry %q is not a host, host:port, *.domain or *", s)
					continue
				}
				b.HTTP.Allow = append(b.HTTP.Allow, s)
			}
		}},
	})
}

func (p *parser) driver(k, v *yaml.Node) *Driver {
	d := &Driver{Name: p.taskName(k, "driver"), Pos: p.pos(k), Settings: map[string]any{}, SettingPos: map[string]Pos{}}
	what := fmt.Sprintf("driver %q", d.Name)
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "%s must be a mapping with at least kind: KIND, not %s", what, describe(v))
		return d
	}
	p.entries(v, what, func(k, v *yaml.Node) {
		if k.Value == "kind" {
			d.KindPos = p.pos(v)
			if s, ok := p.str(v, "kind"); ok {
				d.Kind = s
			}
			return
		}
		if k.Value == "placement" {
			p.placement(&d.Placement, v, what+" placement")
			return
		}
		var x any
		if err := safeNodeDecode(v, &x); err != nil {
			p.errorf(v, "%s setting %q: %v", what, k.Value, err)
			return
		}
		d.Settings[k.Value] = x
		p.settingPos(d, k.Value, v)
	})
	if d.KindPos.Line == 0 {
		p.errorf(k, "%s has no kind (such as kind: kv)", what)
	}
	return d
}

// settingPos records the position of a driver setting's node and of every
// node inside it, by path (keys joined with ".", list items as [i]).
func (p *parser) settingPos(d *Driver, path string, n *yaml.Node) {
	d.SettingPos[path] = p.pos(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.settingPos(d, path+"."+n.Content[i].Value, n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.settingPos(d, fmt.Sprintf("%s[%d]", path, i), c)
		}
	}
}

func (p *parser) arrows(t *Topology, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			return
		}
		p.errorf(n, "arrows must be a list of {from: BOX.INTERFACE, to: TASK[.INTERFACE]}, not %s", describe(n))
		return
	}
	for _, item := range n.Content {
		a := &Arrow{Pos: p.pos(item)}
		p.mapping(item, "an arrow", []field{
			{"from", func(_, v *yaml.Node) {
				a.FromPos = p.pos(v)
				if s, ok := p.str(v, "from"); ok {
					a.From = s
					task, iface, found := strings.Cut(s, ".")
					switch {
					case !found || iface == "" || task == "":
						p.errorf(v, "from %q must be BOX.INTERFACE, such as web.wasi:keyvalue/store@0.2.0-draft", s)
					case !ifaceRE.MatchString(iface):
						p.errorf(v, "from %q: %q is not an interface name such as wasi:keyvalue/store@0.2.0-draft", s, iface)
					}
					a.FromTask, a.Import = task, iface
				}
			}},
			{"to", func(_, v *yaml.Node) {
				a.ToPos = p.pos(v)
				if s, ok := p.str(v, "to"); ok {
					a.To = s
					task, iface, found := strings.Cut(s, ".")
					if task == "" {
						p.errorf(v, "to %q must be TASK or TASK.INTERFACE, such as kv or kv.wasi:keyvalue/store@0.2.0-draft", s)
					} else if found && !ifaceRE.MatchString(iface) {
						p.errorf(v, "to %q: %q is not an interface name such as wasi:keyvalue/store@0.2.0-draft", s, iface)
					}
					a.ToTask, a.Export = task, iface
				}
			}},
		})
		if item.Kind == yaml.MappingNode {
			if a.FromPos.Line == 0 {
				p.errorf(item, "the arrow has no from: BOX.INTERFACE")
			}
			if a.ToPos.Line == 0 {
				p.errorf(item, "the arrow has no to: TASK[.INTERFACE]")
			}
		}
		t.Arrows = append(t.Arrows, a)
	}
}

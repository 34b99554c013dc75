package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/wasmhost"
)

// BundleFormat is the version of the bundle layout Write produces and Open
// accepts.
const BundleFormat = 1

// Manifest is a bundle's manifest.json.
type Manifest struct {
	Format int `json:"format"`
	// Board is the board the bundle was made for ("" when none).
	Board string `json:"board,omitempty"`
	// Source is the topology file the bundle was made from, as given.
	Source string `json:"source"`
	// Components are the digests of the components, by box name.
	Components map[string]string `json:"components"`
	// Files are the sha256 (hex) of every other file, by slash path.
	Files map[string]string `json:"files"`
}

// Bundle is a checked bundle: its manifest and where its files are.
type Bundle struct {
	Manifest Manifest
	fsys     fs.FS
}

// WriteOptions configure Write.
type WriteOptions struct {
	// Runtime loads the components to type-check the topology; nil means
	// a runtime of Write's own.
	Runtime *wasmhost.Runtime
	// Drivers are the driver kinds the image has.
	Drivers map[string]kernel.DriverFactory
	// StoreDir is where "sha256:" components are read from (a node's
	// component store); "" when the topology names components by path only.
	StoreDir string
	// Board is recorded in the manifest.
	Board string
}

// Write type-checks the topology file with the linker, then writes the
// bundle of it and of every component and directory it names into dir
// (which must be empty or not exist).
func Write(ctx context.Context, topologyFile, dir string, opts WriteOptions) (*Manifest, error) {
	t, err := linker.ParseFile(topologyFile)
	if err != nil {
		return nil, err
	}
	if opts.Runtime == nil {
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{})
		if err != nil {
			return nil, fmt.Errorf("type-checking runtime: %w", err)
		}
		defer rt.Close(ctx)
		opts.Runtime = rt
	}
	store, err := privateStore(t, opts.StoreDir)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(store)
	l := linker.New(linker.Options{Runtime: opts.Runtime, Drivers: opts.Drivers, StoreDir: store})
	defer l.Close(ctx)
	if _, err := l.Link(ctx, t); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(topologyFile)
	if err != nil {
		return nil, fmt.Errorf("reading topology %s: %w", topologyFile, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("topology %s: re-reading its YAML: %v", topologyFile, err)
	}
	root := doc.Content[0]

	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("bundle directory %s is not empty", dir)
	}
	m := &Manifest{Format: BundleFormat, Board: opts.Board, Source: topologyFile, Components: map[string]string{}, Files: map[string]string{}}
	put := func(rel string, data []byte, mode os.FileMode) error {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("writing bundle: %w", err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			return fmt.Errorf("writing bundle: %w", err)
		}
		return nil
	}

	for _, b := range t.Boxes {
		src := b.Component
		if strings.HasPrefix(src, "sha256:") {
			src = linker.StorePath(opts.StoreDir, src)
		} else if !filepath.IsAbs(src) {
			src = filepath.Join(t.Dir, src)
		}
		wasm, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("box %q: reading component %s: %w", b.Name, src, err)
		}
		digest := digestOf(wasm)
		if err := put(storeRel(digest), wasm, 0o644); err != nil {
			return nil, err
		}
		m.Components[b.Name] = digest
		box := lookup(root, "boxes", b.Name)
		setScalar(lookup(box, "component"), digest)
		if d := lookup(box, "digest"); d != nil {
			setScalar(d, digest)
		}
		dirs := lookup(box, "wasi", "dirs")
		for i, g := range b.WASI.Dirs {
			rel := "dirs/box-" + b.Name + "-" + strconv.Itoa(i)
			if err := copyDir(g.HostDir, dir, rel, m); err != nil {
				return nil, fmt.Errorf("box %q: wasi dir %s: %w", b.Name, g.HostDir, err)
			}
			if dirs != nil && i < len(dirs.Content) {
				setScalar(lookup(dirs.Content[i], "host"), rel)
			}
		}
	}
	for _, d := range t.Drivers {
		for _, k := range linker.DriverDirSettings {
			s, ok := d.Settings[k].(string)
			if !ok || s == "" {
				continue
			}
			rel := "dirs/driver-" + d.Name
			if err := copyDir(s, dir, rel, m); err != nil {
				return nil, fmt.Errorf("driver %q: %s %s: %w", d.Name, k, s, err)
			}
			setScalar(lookup(root, "drivers", d.Name, k), rel)
		}
	}

	var out bytes.Buffer
	fmt.Fprintf(&out, "# Bundled by wbox image from %s: components are in store/, directories in dirs/.\n", filepath.Base(topologyFile))
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("writing bundle topology: %w", err)
	}
	if err := put("topology.yaml", out.Bytes(), 0o644); err != nil {
		return nil, err
	}
	m.Files["topology.yaml"] = hexSum(out.Bytes())
	js, _ := json.MarshalIndent(m, "", "  ")
	if err := put("manifest.json", append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// privateStore is a store for type-checking t holding copies of the
// "sha256:" components it names from the node's store, so the linker adds
// nothing to the node's own.
func privateStore(t *linker.Topology, nodeStore string) (string, error) {
	dir, err := os.MkdirTemp("", "wbox-image-store-")
	if err != nil {
		return "", fmt.Errorf("type-checking store: %w", err)
	}
	for _, b := range t.Boxes {
		if !strings.HasPrefix(b.Component, "sha256:") || nodeStore == "" {
			continue
		}
		data, err := os.ReadFile(linker.StorePath(nodeStore, b.Component))
		if err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("box %q: component %s: %w", b.Name, b.Component, err)
		}
		if _, err := linker.Store(dir, data); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("box %q: %w", b.Name, err)
		}
	}
	return dir, nil
}

// copyDir copies the regular files under src into dir/rel, recording them.
func copyDir(src, dir, rel string, m *Manifest) error {
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(rel)), 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel), r)
		switch {
		case e.IsDir():
			return os.MkdirAll(dst, 0o755)
		case !e.Type().IsRegular():
			return nil // sockets, links: not part of an image
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		m.Files[path.Join(rel, filepath.ToSlash(r))] = hexSum(data)
		return nil
	})
}

// lookup follows mapping keys from n; nil when one is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func setScalar(n *yaml.Node, v string) {
	if n != nil {
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", v, 0
	}
}

func digestOf(b []byte) string { return "sha256:" + hexSum(b) }

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func storeRel(digest string) string {
	return "store/sha256/" + strings.TrimPrefix(digest, "sha256:") + ".wasm"
}

// MaxManifestSize bounds manifest.json.
const MaxManifestSize = 4 << 20

// Open checks the bundle in fsys: its manifest, the digest of every file
// it lists and of every component, and that it holds no file it does not
// list.
func Open(fsys fs.FS) (*Bundle, error) {
	raw, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{"manifest.json": true}
	for p, sum := range m.Files {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("bundle: file %s: %w", p, err)
		}
		if got := hexSum(data); got != sum {
			return nil, fmt.Errorf("bundle: file %s is corrupt: its content hashes to %s, the manifest says %s", p, got, sum)
		}
		listed[p] = true
	}
	for box, digest := range m.Components {
		p := storeRel(digest)
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("bundle: component of box %q: %w", box, err)
		}
		if got := digestOf(data); got != digest {
			return nil, fmt.Errorf("bundle: component of box %q (%s) is corrupt: its content hashes to %s", box, p, got)
		}
		listed[p] = true
	}
	err = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && !listed[p] {
			return fmt.Errorf("bundle: file %s is not in the manifest", p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Bundle{Manifest: *m, fsys: fsys}, nil
}

// ParseManifest parses and checks manifest.json: the format, box names,
// digests and paths (slash paths inside the bundle).
func ParseManifest(raw []byte) (*Manifest, error) {
	if len(raw) > MaxManifestSize {
		return nil, fmt.Errorf("bundle manifest: %d bytes, more than %d", len(raw), MaxManifestSize)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("bundle manifest: %w", err)
	}
	if m.Format != BundleFormat {
		return nil, fmt.Errorf("bundle manifest: format %d, this wbox reads format %d", m.Format, BundleFormat)
	}
	if _, ok := m.Files["topology.yaml"]; !ok {
		return nil, errors.New("bundle manifest: no topology.yaml")
	}
	for box, d := range m.Components {
		h, ok := strings.CutPrefix(d, "sha256:")
		if b, err := hex.DecodeString(h); !ok || err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("bundle manifest: box %q: component digest %q is not sha256:<64 hex>", box, d)
		}
	}
	for p, sum := range m.Files {
		if !fs.ValidPath(p) || p == "." || p == "manifest.json" {
			return nil, fmt.Errorf("bundle manifest: file path %q is not a path inside the bundle", p)
		}
		if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("bundle manifest: file %s: %q is not a sha256 in hex", p, sum)
		}
	}
	return &m, nil
}

// Unpack copies the bundle into dir and returns the path of its topology
// there. The topology's relative paths then name dir's copies.
func (b *Bundle) Unpack(dir string) (string, error) {
	var paths []string
	for p := range b.Manifest.Files {
		paths = append(paths, p)
	}
	for _, d := range b.Manifest.Components {
		paths = append(paths, storeRel(d))
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := fs.ReadFile(b.fsys, p)
		if err != nil {
			return "", fmt.Errorf("unpacking bundle: %w", err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", fmt.Errorf("unpacking bundle: %w", err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", fmt.Errorf("unpacking bundle: %w", err)
		}
	}
	// Empty directories (a writable blob dir with nothing yet) too.
	err := fs.WalkDir(b.fsys, "dirs", func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == "dirs" {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dir, filepath.FromSlash(p)), 0o755)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("unpacking bundle: %w", err)
	}
	return filepath.Join(dir, "topology.yaml"), nil
}

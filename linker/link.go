package linker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

// Options configure a Linker.
type Options struct {
	// Runtime loads and compiles components.
	Runtime *wasmhost.Runtime
	// Drivers are the native driver kinds by name ("kv"). The linker calls
	// a factory with a zero DriverEnv only to ask the driver's Exports, so
	// factories must not acquire anything (files, sockets) before Run.
	Drivers map[string]kernel.DriverFactory
	// StoreDir is the content-addressed component store: a box whose
	// component is "sha256:<hex>" is read from StoreDir/sha256/<hex>.wasm.
	StoreDir string
	// HostProvided reports whether the node serves an imported interface
	// itself (WASI), so it needs no arrow. Nil means HostProvided.
	HostProvided func(iface string) bool
}

// HostProvided reports whether the kernel serves iface to every box without
// an arrow: the WASI 0.2 interfaces a box gets as explicit grants (cli, io,
// clocks, random, filesystem), wasi:http 0.2 types and outgoing-handler
// (outgoing requests limited to the box's http allow-list), wasi:config
// (its config values) and wasi:logging 0.1 (into the node's log).
// Everything else, wasi:keyvalue included, needs an arrow. It must agree
// with what the kernel's instantiation serves (kernel/imports.go).
func HostProvided(iface string) bool {
	base, v, ok := semver.Split(iface)
	if base == "wasi:config/store" || base == "wasi:config/runtime" {
		return true
	}
	if base == "wasi:logging/logging" && ok && v.Major == 0 && v.Minor == 1 {
		return true // into the node's log and `wbox logs` (kernel/logging.go)
	}
	if !ok || v.Major != 0 || v.Minor != 2 || v.Pre != "" {
		return false
	}
	if base == "wasi:http/types" || base == "wasi:http/outgoing-handler" {
		return true
	}
	for _, p := range []string{"wasi:cli/", "wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:filesystem/"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// Linker type-checks topologies into kernel Specs. It keeps the components
// it loaded, by digest, so a redeploy of an unchanged component reuses the
// same compiled *wasmhost.Component. It is safe for concurrent use.
type Linker struct {
	opts Options

	mu    sync.Mutex
	cache map[string]*wasmhost.Component // by digest
}

// New returns a Linker.
func New(opts Options) *Linker {
	if opts.HostProvided == nil {
		opts.HostProvided = HostProvided
	}
	return &Linker{opts: opts, cache: map[string]*wasmhost.Component{}}
}

// Close frees every component the linker loaded. Specs it returned must no
// longer run.
func (l *Linker) Close(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	for d, c := range l.cache {
		err = errors.Join(err, c.Close(ctx))
		delete(l.cache, d)
	}
	return err
}

// Prune frees the loaded components that none of the specs uses (call it
// with the spec now running after a deploy, and with a failed one's too if
// it may still be retried).
func (l *Linker) Prune(ctx context.Context, keep ...*kernel.Spec) error {
	used := map[string]bool{}
	for _, s := range keep {
		if s == nil {
			continue
		}
		for _, b := range s.Boxes {
			used[b.Digest] = true
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	for d, c := range l.cache {
		if !used[d] {
			err = errors.Join(err, c.Close(ctx))
			delete(l.cache, d)
		}
	}
	return err
}

// task is a box or driver as arrows see it: what it exports.
type task struct {
	name    string
	pos     Pos
	box     *Box // nil for a driver
	world   *wasmhost.World
	exports map[string]*wasmhost.InstanceType
}

func (t *task) kind() string {
	if t.box != nil {
		return "box"
	}
	return "driver"
}

func (t *task) exportNames() []string {
	var ns []string
	for n := range t.exports {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Link loads every component of the topology and type-checks it: every
// component loads, pinned digests match, every arrow connects an import of
// a box to a semver-compatible export of another task with structurally
// equal types, and every import that the node does not serve itself is
// bound by exactly one arrow. It starts nothing. Problems are reported
// together as Errors, each at its position in the topology file.
func (l *Linker) Link(ctx context.Context, t *Topology) (*kernel.Spec, error) {
	var errs errList
	var callers []driverCalls
	tasks := map[string]*task{}
	var taskNames []string
	spec := &kernel.Spec{}

	for _, d := range t.Drivers {
		tk := &task{name: d.Name, pos: d.Pos}
		tasks[d.Name] = tk
		taskNames = append(taskNames, d.Name)
		ds := kernel.DriverSpec{Name: d.Name, Kind: d.Kind, Settings: d.Settings}
		spec.Drivers = append(spec.Drivers, ds)
		factory, ok := l.opts.Drivers[d.Kind]
		if !ok {
			var kinds []string
			for k := range l.opts.Drivers {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			errs.add(d.KindPos, "driver %q: unknown kind %q%s (known kinds: %s)", d.Name, d.Kind, suggest(d.Kind, kinds), strings.Join(kinds, ", "))
			continue
		}
		n, err := factory(ds, kernel.DriverEnv{})
		if err != nil {
			errs.add(d.Pos, "driver %q (kind %s): %v", d.Name, d.Kind, err)
			continue
		}
		tk.exports = n.Exports()
		if bc, ok := n.(kernel.BoxCaller); ok {
			callers = append(callers, driverCalls{d: d, targets: bc.Targets()})
		}
	}

	for _, b := range t.Boxes {
		tk := &task{name: b.Name, pos: b.Pos, box: b, exports: map[string]*wasmhost.InstanceType{}}
		tasks[b.Name] = tk
		taskNames = append(taskNames, b.Name)
		for i, d := range b.WASI.Dirs {
			if st, err := os.Stat(d.HostDir); err != nil || !st.IsDir() {
				errs.add(b.DirsPos[i], "box %q: wasi dir %s is not a directory", b.Name, d.HostDir)
			}
		}
		c, err := l.load(ctx, t, b)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				errs.add(e.Pos, "%s", e.Msg)
			} else {
				errs.add(b.ComponentPos, "box %q: %v", b.Name, err)
			}
			continue
		}
		tk.world = c.World()
		for _, e := range tk.world.Exports {
			if e.Kind == wasmhost.ExternInstance {
				tk.exports[e.Name] = e.Instance
			}
		}
		spec.Boxes = append(spec.Boxes, kernel.BoxSpec{
			Name: b.Name, Component: c, Digest: c.Digest(), Config: b.Config,
			Instances: b.Instances, Limits: b.Limits, Restart: b.Restart, WASI: b.WASI,
			HTTP: b.HTTP, Fresh: b.Fresh,
		})
	}

	// Boxes that drivers call: each exists and exports what the driver
	// calls.
	for _, c := range callers {
		l.checkTargets(&errs, c, tasks, t)
	}

	// Arrows: resolve both ends, then type-check.
	bound := map[string]map[string]*Arrow{} // box -> import -> arrow
	arrows := map[string][]kernel.Arrow{}
	var boxNames []string
	for _, b := range t.Boxes {
		boxNames = append(boxNames, b.Name)
	}
	attempted := map[string]map[string]bool{} // box -> import: an arrow tried, and failed
	var strayImports []string                 // interfaces of arrows from unknown boxes
	for _, a := range t.Arrows {
		if a.FromTask == "" || a.Import == "" || a.ToTask == "" {
			continue // the parser reported it
		}
		from, ok := tasks[a.FromTask]
		switch {
		case !ok:
			errs.add(a.FromPos, "arrow %s: unknown box %q%s (boxes: %s)", a, a.FromTask, suggest(a.FromTask, boxNames), strings.Join(boxNames, ", "))
			strayImports = append(strayImports, a.Import)
			continue
		case from.box == nil:
			errs.add(a.FromPos, "arrow %s: %q is a driver; arrows start at the box that imports the interface", a, a.FromTask)
			continue
		case from.world == nil:
			continue // its component failed to load: reported above
		}
		imp := findImport(from.world, a.Import)
		if imp == nil {
			errs.add(a.FromPos, "arrow %s: box %q does not import %s%s (its imports: %s)", a, from.name, a.Import,
				suggest(a.Import, importNames(from.world)), strings.Join(importNames(from.world), ", "))
			continue
		}
		if prev := bound[from.name][imp.Name]; prev != nil {
			errs.add(a.FromPos, "arrow %s: import %s of box %q is already bound by the arrow at line %d", a, imp.Name, from.name, prev.Pos.Line)
			continue
		}
		if attempted[from.name] == nil {
			attempted[from.name] = map[string]bool{}
		}
		attempted[from.name][imp.Name] = true
		to, ok := tasks[a.ToTask]
		switch {
		case !ok:
			errs.add(a.ToPos, "arrow %s: unknown box or driver %q%s (tasks: %s)", a, a.ToTask, suggest(a.ToTask, taskNames), strings.Join(taskNames, ", "))
			continue
		case from == to:
			errs.add(a.ToPos, "arrow %s: a box cannot import from itself", a)
			continue
		case to.exports == nil || to.box != nil && to.world == nil:
			continue // its component or driver failed: reported above
		}
		export, msg := resolveExport(imp.Name, to, a.Export)
		if msg != "" {
			errs.add(a.ToPos, "arrow %s: %s", a, msg)
			continue
		}
		if bound[from.name] == nil {
			bound[from.name] = map[string]*Arrow{}
		}
		bound[from.name][imp.Name] = a
		shown := fmt.Sprintf("%s.%s -> %s.%s", from.name, imp.Name, to.name, export)
		if probs := CheckInstance(imp.Instance, to.exports[export]); len(probs) > 0 {
			for _, p := range probs {
				errs.add(a.Pos, "arrow %s: %s", shown, p)
			}
			continue
		}
		arrows[from.name] = append(arrows[from.name], kernel.Arrow{Import: imp.Name, Target: to.name, Export: export})
	}

	// Imports sharing a resource type go to the same task (linker/shared.go).
	for _, b := range t.Boxes {
		if tk := tasks[b.Name]; tk.world != nil {
			to := map[string]string{}
			for _, a := range arrows[b.Name] {
				to[a.Import] = a.Target
			}
			checkSharedResources(&errs, b.Name, tk.world, bound[b.Name], to)
		}
	}

	// Every import must be bound, or served by the node.
	for _, b := range t.Boxes {
		tk := tasks[b.Name]
		if tk.world == nil {
			continue
		}
		for _, imp := range tk.world.Imports {
			if bound[b.Name][imp.Name] != nil || attempted[b.Name][imp.Name] {
				continue // bound, or an arrow meant to bind it and failed: reported
			}
			if slices.ContainsFunc(strayImports, func(s string) bool { return s == imp.Name || semver.NamesCompatible(s, imp.Name) }) {
				continue // probably the arrow with the misspelt box: reported
			}
			switch imp.Kind {
			case wasmhost.ExternInstance:
				if l.opts.HostProvided(imp.Name) || imp.Instance.TypesOnly() {
					continue
				}
				hint := ""
				if cands := exportersOf(tasks, taskNames, b.Name, imp.Name); len(cands) > 0 {
					hint = fmt.Sprintf(": add an arrow such as {from: %s.%s, to: %s} (%s exports it)", b.Name, imp.Name, cands[0], strings.Join(cands, ", "))
				} else {
					hint = ": add an arrow to a box or driver that exports it (none in this topology does)"
				}
				errs.add(b.Pos, "box %q imports %s, but no arrow binds it%s", b.Name, imp.Name, hint)
			case wasmhost.ExternFunc:
				errs.add(b.Pos, "box %q imports the world-level function %q, which wbox cannot bind: import it through an interface", b.Name, imp.Name)
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	for i := range spec.Boxes {
		spec.Boxes[i].Arrows = arrows[spec.Boxes[i].Name]
	}
	return spec, nil
}

// findImport finds the world import an arrow's from side names: exactly,
// by a semver-compatible version, or without a version when only one
// version is imported.
func findImport(w *wasmhost.World, name string) *wasmhost.Extern {
	if e := w.Import(name); e != nil && e.Kind == wasmhost.ExternInstance {
		return e
	}
	var found *wasmhost.Extern
	for i := range w.Imports {
		e := &w.Imports[i]
		if e.Kind != wasmhost.ExternInstance {
			continue
		}
		base, _, _ := semver.Split(e.Name)
		if semver.NamesCompatible(e.Name, name) || base == name {
			if found != nil {
				return nil
			}
			found = e
		}
	}
	return found
}

func importNames(w *wasmhost.World) []string {
	var ns []string
	for _, e := range w.Imports {
		if e.Kind == wasmhost.ExternInstance {
			ns = append(ns, e.Name)
		}
	}
	return ns
}

// resolveExport picks the export of to that serves import: the one named
// by want (exactly or by compatible version), or, when want is "", the only
// compatible one. It returns the export's name or why none fits.
func resolveExport(imp string, to *task, want string) (string, string) {
	ibase, iver, _ := semver.Split(imp)
	names := to.exportNames()
	list := strings.Join(names, ", ")
	if list == "" {
		list = "nothing"
	}
	if want != "" {
		wbase, wver, wok := semver.Split(want)
		if wbase != ibase {
			return "", fmt.Sprintf("the import is %s but the arrow points at %s, a different interface", imp, want)
		}
		if wok && !wver.Compatible(iver) {
			return "", versionMismatch(to, imp, want)
		}
		var found []string
		for _, n := range names {
			nbase, nver, _ := semver.Split(n)
			if n == want || nbase == wbase && (!wok || nver == wver) {
				found = append(found, n)
			}
		}
		if len(found) == 0 {
			return "", fmt.Sprintf("%s %q does not export %s (it exports %s)", to.kind(), to.name, want, list)
		}
		want = found[len(found)-1]
	} else {
		var compat, same []string
		for _, n := range names {
			nbase, _, _ := semver.Split(n)
			if nbase != ibase {
				continue
			}
			same = append(same, n)
			if semver.NamesCompatible(imp, n) {
				compat = append(compat, n)
			}
		}
		switch {
		case len(compat) == 1:
			want = compat[0]
		case len(compat) > 1:
			return "", fmt.Sprintf("%s %q exports %s compatible with %s: name one in to:", to.kind(), to.name, strings.Join(compat, " and "), imp)
		case len(same) > 0:
			return "", versionMismatch(to, imp, same[0])
		default:
			return "", fmt.Sprintf("%s %q does not export %s (it exports %s)", to.kind(), to.name, ibase, list)
		}
	}
	if !semver.NamesCompatible(imp, want) {
		return "", versionMismatch(to, imp, want)
	}
	return want, ""
}

func versionMismatch(to *task, imp, exp string) string {
	_, iv, iok := semver.Split(imp)
	_, ev, eok := semver.Split(exp)
	why := "versions differ"
	switch {
	case !iok || !eok:
	case iv.Pre != ev.Pre:
		why = "pre-release versions must be equal"
	case iv.Major == 0 && ev.Major == 0 && iv.Minor == 0 && ev.Minor == 0:
		why = "0.0.x versions are compatible only with themselves"
	case iv.Major == 0 && ev.Major == 0:
		why = "0.x versions must agree on the minor version"
	default:
		why = "major versions differ"
	}
	return fmt.Sprintf("%s %q exports %s, which is not compatible with the imported %s (%s)", to.kind(), to.name, exp, imp, why)
}

// exportersOf lists the tasks (other than box) that export an interface
// compatible with iface.
func exportersOf(tasks map[string]*task, order []string, box, iface string) []string {
	var out []string
	for _, n := range order {
		t := tasks[n]
		if n == box {
			continue
		}
		for e := range t.exports {
			if semver.NamesCompatible(iface, e) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// load reads a box's component (from its path or the store), checks its
// pinned digest and compiles it, reusing an already loaded component with
// the same digest.
func (l *Linker) load(ctx context.Context, t *Topology, b *Box) (*wasmhost.Component, error) {
	var path string
	if strings.HasPrefix(b.Component, "sha256:") {
		if l.opts.StoreDir == "" {
			return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: component %s is a digest, but this node has no component store", b.Name, b.Component)}
		}
		path = StorePath(l.opts.StoreDir, b.Component)
	} else {
		path = b.Component
		if !filepath.IsAbs(path) {
			path = filepath.Join(t.Dir, path)
		}
	}
	wasm, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && strings.HasPrefix(b.Component, "sha256:"):
		return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: component %s is not in the store (%s): deploy it once by path", b.Name, b.Component, l.opts.StoreDir)}
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: component file %s not found (looked for %s)", b.Name, b.Component, path)}
	case err != nil:
		return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: component %s: %v", b.Name, b.Component, err)}
	}
	sum := sha256.Sum256(wasm)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if strings.HasPrefix(b.Component, "sha256:") && digest != b.Component {
		return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: the store's copy of %s is corrupt (its content hashes to %s)", b.Name, b.Component, digest)}
	}
	if b.Digest != "" && digest != b.Digest {
		return nil, &Error{Pos: b.DigestPos, Msg: fmt.Sprintf("box %q: digest mismatch: %s hashes to %s, but the topology pins %s", b.Name, b.Component, digest, b.Digest)}
	}
	if l.opts.StoreDir != "" && !strings.HasPrefix(b.Component, "sha256:") {
		// Keep every component deployed by path, so later topologies (and
		// other nodes) can name it by digest.
		if _, err := Store(l.opts.StoreDir, wasm); err != nil {
			return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: storing component %s: %v", b.Name, b.Component, err)}
		}
	}
	l.mu.Lock()
	c, ok := l.cache[digest]
	l.mu.Unlock()
	if ok {
		return c, nil
	}
	if l.opts.Runtime == nil {
		return nil, errors.New("linker: no Runtime to load components with")
	}
	c, err = l.opts.Runtime.Load(ctx, wasm)
	if err != nil {
		return nil, &Error{Pos: b.ComponentPos, Msg: fmt.Sprintf("box %q: component %s: %v", b.Name, b.Component, err)}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.cache[digest]; ok { // a concurrent Link won
		c.Close(ctx)
		return prev, nil
	}
	l.cache[digest] = c
	return c, nil
}

// StorePath is where a content-addressed store keeps the component with a
// digest: DIR/sha256/<hex>.wasm.
func StorePath(dir, digest string) string {
	return filepath.Join(dir, "sha256", strings.TrimPrefix(digest, "sha256:")+".wasm")
}

// Store writes a component binary into the store at dir and returns its
// digest. Existing entries are left alone.
func Store(dir string, wasm []byte) (string, error) {
	sum := sha256.Sum256(wasm)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	path := StorePath(dir, digest)
	if _, err := os.Stat(path); err == nil {
		return digest, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return "", err
	}
	_, werr := tmp.Write(wasm)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return digest, nil
}

// driverCalls are the boxes a driver's settings name (kernel.BoxCaller).
type driverCalls struct {
	d       *Driver
	targets []kernel.Target
}

// checkTargets checks each box a driver calls: it exists, is a box, and
// exports an interface semver-compatible with the one the driver calls.
// Errors are at the setting that names the box.
func (l *Linker) checkTargets(errs *errList, c driverCalls, tasks map[string]*task, t *Topology) {
	var boxNames []string
	for _, b := range t.Boxes {
		boxNames = append(boxNames, b.Name)
	}
	for _, tg := range c.targets {
		pos, ok := c.d.SettingPos[tg.Setting]
		if !ok {
			pos = c.d.Pos
		}
		what := fmt.Sprintf("driver %q %s", c.d.Name, tg.Setting)
		tk, ok := tasks[tg.Box]
		switch {
		case !ok:
			errs.add(pos, "%s: unknown box %q%s (boxes: %s)", what, tg.Box, suggest(tg.Box, boxNames), strings.Join(boxNames, ", "))
			continue
		case tk.box == nil:
			errs.add(pos, "%s: %q is a driver; it calls boxes", what, tg.Box)
			continue
		case tk.world == nil:
			continue // its component failed to load: reported
		}
		found := false
		for n := range tk.exports {
			if semver.NamesCompatible(n, tg.Export) {
				found = true
				break
			}
		}
		if !found {
			base, _, _ := semver.Split(tg.Export)
			list := strings.Join(tk.exportNames(), ", ")
			if list == "" {
				list = "nothing"
			}
			errs.add(pos, "%s: box %q does not export %s (a version compatible with %s); it exports %s", what, tg.Box, base, tg.Export, list)
		}
	}
}

package wasmhost

import (
	"context"
	"sort"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// HostFunc implements an imported component function in Go. Arguments and
// results use the Go representation described in package value. An error
// fails the guest's call: it traps the calling instance.
type HostFunc func(ctx context.Context, args []any) ([]any, error)

// ResourceDtor is called when the guest drops its last owning handle to a
// host resource, with the representation the host chose for it.
type ResourceDtor func(ctx context.Context, rep uint32)

// Imports is the set of host definitions a component may import. Interface
// names are matched with semver rules: a component importing
// wasi:io/streams@0.2.12 is served by a host instance registered as
// wasi:io/streams@0.2.0 (and the other way around), the highest compatible
// version winning.
type Imports struct {
	trapUnknown bool
	instances   map[string]*HostInstance
	funcs       map[string]*hostFunc
	resources   map[*value.ResourceType]ResourceDtor
}

// NewImports returns an empty set of host definitions.
func NewImports() *Imports {
	return &Imports{
		instances: map[string]*HostInstance{},
		funcs:     map[string]*hostFunc{},
		resources: map[*value.ResourceType]ResourceDtor{},
	}
}

// HostInstance is a host implementation of an imported interface.
type HostInstance struct {
	imports   *Imports
	name      string
	funcs     map[string]*hostFunc
	resources map[string]*value.ResourceType
	trap      bool // TrapUnknown's stand-in
}

type hostFunc struct {
	name string
	typ  *value.FuncType // nil: accept the type the component declares
	fn   HostFunc
}

// Instance returns the host instance for an interface name such as
// "wasi:io/streams@0.2.0", creating it on first use.
func (im *Imports) Instance(name string) *HostInstance {
	if hi, ok := im.instances[name]; ok {
		return hi
	}
	hi := &HostInstance{imports: im, name: name, funcs: map[string]*hostFunc{}, resources: map[string]*value.ResourceType{}}
	im.instances[name] = hi
	return hi
}

// Resource defines a world-level imported resource type, implemented by the
// host (an interface's resources are defined with HostInstance.Resource).
func (im *Imports) Resource(name string, dtor ResourceDtor) *value.ResourceType {
	for rt := range im.resources {
		if rt.Name == name && rt.Interface == "" {
			return rt
		}
	}
	rt := &value.ResourceType{Name: name}
	im.resources[rt] = dtor
	return rt
}

// Func defines a top-level imported function (a world-level import).
func (im *Imports) Func(name string, fn HostFunc) { im.funcs[name] = &hostFunc{name: name, fn: fn} }

// Func defines a function of the interface. The component's declared type is
// trusted; use TypedFunc to have it checked.
func (hi *HostInstance) Func(name string, fn HostFunc) *HostInstance {
	hi.funcs[name] = &hostFunc{name: name, fn: fn}
	return hi
}

// TypedFunc defines a function whose type must equal the one the component
// imports; instantiation fails with both types named otherwise.
func (hi *HostInstance) TypedFunc(name string, typ *value.FuncType, fn HostFunc) *HostInstance {
	hi.funcs[name] = &hostFunc{name: name, typ: typ, fn: fn}
	return hi
}

// Resource defines a resource type of the interface, implemented by the
// host. The returned type identifies handles of it in Handle values.
func (hi *HostInstance) Resource(name string, dtor ResourceDtor) *value.ResourceType {
	if rt, ok := hi.resources[name]; ok {
		return rt
	}
	rt := &value.ResourceType{Name: name, Interface: hi.name}
	hi.resources[name] = rt
	hi.imports.resources[rt] = dtor
	return rt
}

// WrapFuncs replaces every function defined so far in the interface by
// wrap(name, fn): a kernel uses it to account for, and attribute the errors
// and panics of, functions a native task defined.
func (hi *HostInstance) WrapFuncs(wrap func(name string, fn HostFunc) HostFunc) {
	for name, f := range hi.funcs {
		hi.funcs[name] = &hostFunc{name: f.name, typ: f.typ, fn: wrap(name, f.fn)}
	}
}

// AliasResource makes an existing resource type visible in this interface
// too, as WIT's `use` does (wasi:cli/stdout uses wasi:io/streams'
// output-stream).
func (hi *HostInstance) AliasResource(name string, rt *value.ResourceType) *HostInstance {
	hi.resources[name] = rt
	return hi
}

// TrapUnknown satisfies every import the host does not provide with
// functions that fail when called (and resources nobody can create), so
// exports that do not need those imports can run: `wbox call
// --trap-unknown-imports`.
func (im *Imports) TrapUnknown() *Imports {
	im.trapUnknown = true
	return im
}

// trapInstance is what TrapUnknown provides for an interface.
func (im *Imports) trapInstance(name string) *HostInstance {
	hi := &HostInstance{imports: im, name: name, funcs: map[string]*hostFunc{}, resources: map[string]*value.ResourceType{}}
	hi.trap = true
	return hi
}

// Merge adds every definition of other into im (later definitions win).
func (im *Imports) Merge(other *Imports) *Imports {
	for n, hi := range other.instances {
		dst := im.Instance(n)
		for fn, f := range hi.funcs {
			dst.funcs[fn] = f
		}
		for rn, rt := range hi.resources {
			dst.resources[rn] = rt
		}
	}
	for n, f := range other.funcs {
		im.funcs[n] = f
	}
	for rt, d := range other.resources {
		im.resources[rt] = d
	}
	im.trapUnknown = im.trapUnknown || other.trapUnknown
	return im
}

// lookup finds the host instance serving an imported interface name.
func (im *Imports) lookup(name string) *HostInstance {
	if hi, ok := im.instances[name]; ok {
		return hi
	}
	base, ver, ok := semver.Split(name)
	if !ok {
		return nil
	}
	var best *HostInstance
	var bestVer semver.Version
	for n, hi := range im.instances {
		b, v, ok := semver.Split(n)
		if !ok || b != base || !v.Compatible(ver) {
			continue
		}
		if best == nil || bestVer.Less(v) {
			best, bestVer = hi, v
		}
	}
	return best
}

// Names returns the registered interface names, sorted.
func (im *Imports) Names() []string {
	var ns []string
	for n := range im.instances {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

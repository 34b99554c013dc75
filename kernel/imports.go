package kernel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// imports builds what one instance of the box may import: each arrow bound
// to its target (a native target's Bind, or forwarders into a box's
// queue), wasi:config from the box's Config, and the WASI interfaces with
// the box's grants, and wasi:http (types, outgoing-handler) with its HTTP
// grants. Any other import does not exist, and instantiation fails naming
// it. The returned hosts hold the instance's WASI and wasi:http state
// (close them with the instance).
func (b *boxTask) imports(routes *routing) (*wasmhost.Imports, *instHosts, error) {
	im, hosts, err := b.wasiImports()
	if err != nil {
		return nil, nil, fmt.Errorf("wasi: %w", err)
	}
	fail := func(err error) (*wasmhost.Imports, *instHosts, error) {
		hosts.close()
		return nil, nil, err
	}
	arrows := routes.arrows[b.name]
	for _, e := range b.comp.World().Imports {
		switch e.Kind {
		case wasmhost.ExternType:
			continue // types used by imported interfaces
		case wasmhost.ExternInstance:
		default:
			return fail(fmt.Errorf("import %s: a box can import only interfaces (through arrows), not a %s", e.Name, e.Kind))
		}
		if r, ok := arrows[e.Name]; ok {
			hi := im.Instance(e.Name)
			switch {
			case r.driver != nil:
				if err := bindNative(r.driver, b.name, e.Name, r.Export, hi); err != nil {
					return fail(fmt.Errorf("arrow %s -> %s.%s: %w", e.Name, r.Target, r.Export, err))
				}
			case r.box != nil:
				if err := b.forward(hi, e.Name, e.Instance); err != nil {
					return fail(err)
				}
			}
			continue
		}
		switch {
		case isConfig(e.Name):
			serveConfig(im.Instance(e.Name), b.spec.Config)
		case isWASI(e.Name):
			// served by the WASI host above
		case isLogging(e.Name): // kernel/logging.go
			b.serveLogging(im.Instance(e.Name))
		case isHTTP(e.Name):
			if hosts.http == nil {
				b.serveHTTPImports(im, hosts)
			}
		default:
			return fail(fmt.Errorf("import %s has no arrow: without an arrow an import does not exist (bound: %s)", e.Name, boundList(arrows)))
		}
	}
	return im, hosts, nil
}

func boundList(arrows map[string]*route) string {
	if len(arrows) == 0 {
		return "none"
	}
	var ns []string
	for n := range arrows {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

// bindNative calls Bind, turning a panic into an error, and wraps the
// functions it defines: an error or panic of the driver's function fails the
// call through the arrow (blamed on the driver), not the calling box as if it
// had trapped on its own.
func bindNative(d *driverTask, caller, imp, export string, hi *wasmhost.HostInstance) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: Bind: %v", ErrPanic, r)
		}
	}()
	if err := d.native.Bind(caller, export, hi); err != nil {
		return err
	}
	st := d.k.obs.arrow(caller, imp, d.name) // metrics.go
	hi.WrapFuncs(func(fn string, f wasmhost.HostFunc) wasmhost.HostFunc {
		return func(ctx context.Context, args []any) (res []any, err error) {
			start := d.k.obs.now() // metrics.go
			d.callsIn.Add(1)
			ctx, end := d.k.startCall(ctx, caller, imp, d.name, export, fn)
			defer func() {
				if err != nil {
					d.errors.Add(1)
				}
				st.end(start, err)
				if end != nil {
					end(err)
				}
			}()
			defer func() {
				if r := recover(); r != nil {
					err = &arrowError{from: caller, imp: imp, fn: fn, target: d.name,
						err: &TaskError{Task: d.name, Func: export + "#" + fn, Kind: ErrPanic, detail: fmt.Sprint(r)}}
				}
			}()
			res, err = f(ctx, args)
			if err != nil {
				var ae *arrowError
				if !errors.As(err, &ae) {
					err = &arrowError{from: caller, imp: imp, fn: fn, target: d.name, err: err}
				}
			}
			return res, err
		}
	})
	return nil
}

// isWASI reports whether iface is one of the WASI 0.2 interfaces the node
// serves itself, with the box's explicit grants (linker.HostProvided is
// this, isHTTP and isConfig). Everything else, wasi:keyvalue included, needs an
// arrow.
func isWASI(iface string) bool {
	base, v, ok := semver.Split(iface)
	if !ok || v.Major != 0 || v.Minor != 2 || v.Pre != "" {
		return false
	}
	for _, p := range []string{"wasi:cli/", "wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:filesystem/"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// isHTTP reports whether iface is one of the wasi:http 0.2 interfaces the
// kernel serves itself (package wasmhost/wasihttp): types and
// outgoing-handler, the latter limited by the box's HTTPGrants.
func isHTTP(iface string) bool {
	base, v, ok := semver.Split(iface)
	if !ok || v.Major != 0 || v.Minor != 2 || v.Pre != "" {
		return false
	}
	return base == "wasi:http/types" || base == "wasi:http/outgoing-handler"
}

// isConfig reports whether iface is wasi:config's store (or its older name,
// runtime), which the kernel serves from BoxSpec.Config.
func isConfig(iface string) bool {
	base, _, _ := semver.Split(iface)
	return base == "wasi:config/store" || base == "wasi:config/runtime"
}

// serveConfig implements wasi:config/store: get(key) ->
// result<option<string>, error> and get-all() -> result<list<tuple<string,
// string>>, error>. It never fails.
func serveConfig(hi *wasmhost.HostInstance, cfg map[string]string) {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	all := make([]any, len(keys))
	for i, k := range keys {
		all[i] = []any{k, cfg[k]}
	}
	hi.Func("get", func(_ context.Context, args []any) ([]any, error) {
		key, _ := args[0].(string)
		if v, ok := cfg[key]; ok {
			return []any{value.Ok(value.Some(v))}, nil
		}
		return []any{value.Ok(value.None())}, nil
	})
	hi.Func("get-all", func(context.Context, []any) ([]any, error) {
		return []any{value.Ok(all)}, nil
	})
}

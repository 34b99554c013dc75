// Package kv is wbox's small native key-value driver: a kernel.Native task
// exporting wbox:kv/store@0.1.0 (wit/wbox-kv.wit) with get, set and delete
// over strings.
//
// Every box that holds an arrow to a kv driver gets its own namespace: the
// same key set by two boxes is two entries. Values live in memory; with the
// setting `file: NAME` they are also written, as JSON, to NAME in the
// driver's data directory after every change and read back when the driver
// starts, so they survive restarts of the node.
//
//	drivers:
//	  kv:
//	    kind: kv
//	    file: kv.json   # optional
//
// It is deliberately small: issue 4 replaces it with wasi:keyvalue on bbolt.
package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Interface is the interface a kv driver exports.
const Interface = "wbox:kv/store@0.1.0"

// Kind is the driver kind name used in topologies.
const Kind = "kv"

var (
	getType    = &value.FuncType{Params: []value.Param{{Name: "key", Type: value.String}}, Results: []value.Param{{Type: value.OptionOf(value.String)}}}
	setType    = &value.FuncType{Params: []value.Param{{Name: "key", Type: value.String}, {Name: "value", Type: value.String}}}
	deleteType = &value.FuncType{Params: []value.Param{{Name: "key", Type: value.String}}, Results: []value.Param{{Type: value.Bool}}}
)

// StoreType is wbox:kv/store as an instance type, for the linker.
func StoreType() *wasmhost.InstanceType {
	return &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		{Name: "get", Kind: wasmhost.ExternFunc, Func: getType},
		{Name: "set", Kind: wasmhost.ExternFunc, Func: setType},
		{Name: "delete", Kind: wasmhost.ExternFunc, Func: deleteType},
	}}
}

// Driver is a kv store task.
type Driver struct {
	name string
	file string // absolute, or "" for memory only

	mu     sync.Mutex
	loaded bool
	data   map[string]map[string]string // caller -> key -> value
}

var _ kernel.Native = (*Driver)(nil)

// New is the kernel.DriverFactory for kind "kv". It acquires nothing: the
// file, if any, is read on first use.
func New(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
	d := &Driver{name: spec.Name}
	var unknown []string
	for k, v := range spec.Settings {
		switch k {
		case "file":
			s, ok := v.(string)
			if !ok || s == "" || filepath.IsAbs(s) || strings.Contains(filepath.ToSlash(s), "..") {
				return nil, fmt.Errorf("setting file must be a relative file name inside the driver's data directory, not %v", v)
			}
			if env.DataDir != "" {
				d.file = filepath.Join(env.DataDir, s)
			} else {
				d.file = s // only described, never opened (the linker's check)
			}
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown setting %q (kv knows: file)", unknown[0])
	}
	return d, nil
}

// Exports implements kernel.Native.
func (d *Driver) Exports() map[string]*wasmhost.InstanceType {
	return map[string]*wasmhost.InstanceType{Interface: StoreType()}
}

// Bind implements kernel.Native: it serves caller its own namespace.
func (d *Driver) Bind(caller, export string, imports *wasmhost.HostInstance) error {
	if export != Interface {
		return fmt.Errorf("kv driver %q exports %s, not %s", d.name, Interface, export)
	}
	imports.TypedFunc("get", getType, func(ctx context.Context, args []any) ([]any, error) {
		v, ok, err := d.Get(caller, args[0].(string))
		if err != nil {
			return nil, err
		}
		if !ok {
			return []any{value.None()}, nil
		}
		return []any{value.Some(v)}, nil
	})
	imports.TypedFunc("set", setType, func(ctx context.Context, args []any) ([]any, error) {
		return nil, d.Set(caller, args[0].(string), args[1].(string))
	})
	imports.TypedFunc("delete", deleteType, func(ctx context.Context, args []any) ([]any, error) {
		ok, err := d.Delete(caller, args[0].(string))
		return []any{ok}, err
	})
	return nil
}

// Run implements kernel.Native: the store is passive, so it loads its file
// and waits.
func (d *Driver) Run(ctx context.Context) error {
	d.mu.Lock()
	err := d.load()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// Get returns the value of key in caller's namespace.
func (d *Driver) Get(caller, key string) (string, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.load(); err != nil {
		return "", false, err
	}
	v, ok := d.data[caller][key]
	return v, ok, nil
}

// Set stores key in caller's namespace.
func (d *Driver) Set(caller, key, val string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.load(); err != nil {
		return err
	}
	ns := d.data[caller]
	if ns == nil {
		ns = map[string]string{}
		d.data[caller] = ns
	}
	old, had := ns[key]
	ns[key] = val
	if err := d.save(); err != nil {
		if had {
			ns[key] = old
		} else {
			delete(ns, key)
		}
		return err
	}
	return nil
}

// Delete removes key from caller's namespace.
func (d *Driver) Delete(caller, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.load(); err != nil {
		return false, err
	}
	old, ok := d.data[caller][key]
	if !ok {
		return false, nil
	}
	delete(d.data[caller], key)
	if err := d.save(); err != nil {
		d.data[caller][key] = old
		return false, err
	}
	return true, nil
}

// load reads the file once (d.mu held).
func (d *Driver) load() error {
	if d.loaded {
		return nil
	}
	d.data = map[string]map[string]string{}
	if d.file != "" {
		b, err := os.ReadFile(d.file)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return fmt.Errorf("kv %q: %w", d.name, err)
		default:
			if err := json.Unmarshal(b, &d.data); err != nil {
				return fmt.Errorf("kv %q: %s: %w", d.name, d.file, err)
			}
			if d.data == nil {
				d.data = map[string]map[string]string{}
			}
		}
	}
	d.loaded = true
	return nil
}

// save writes the file atomically (d.mu held).
func (d *Driver) save() error {
	if d.file == "" {
		return nil
	}
	b, err := json.Marshal(d.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(d.file), 0o755); err != nil {
		return fmt.Errorf("kv %q: %w", d.name, err)
	}
	tmp := d.file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("kv %q: %w", d.name, err)
	}
	if err := os.Rename(tmp, d.file); err != nil {
		return fmt.Errorf("kv %q: %w", d.name, err)
	}
	return nil
}

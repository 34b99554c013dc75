package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Interface is the interface a blob driver exports.
const Interface = "wbox:blob/store@0.1.0"

// Kind is the driver kind name used in topologies.
const Kind = "blob"

// MaxRead bounds the bytes one read call returns.
const MaxRead = 1 << 20

// tmpPrefix starts the names of the driver's temporary files.
const tmpPrefix = ".wbox-tmp-"

// ErrKind is a case of wbox:blob's error variant.
type ErrKind uint32

// The cases of the error variant, in WIT order.
const (
	ErrInvalidPath ErrKind = iota
	ErrNotFound
	ErrWrongKind
	ErrReadOnly
	ErrIO
	ErrChanged
)

var errNames = [...]string{"invalid path", "not found", "wrong kind", "read-only", "i/o error", "changed since its stat (another ETag)"}

// Error is a failure the box sees as a wbox:blob error value.
type Error struct {
	Kind   ErrKind
	Path   string // the path as the box gave it
	Detail string // invalid-path and io: what was wrong
}

func (e *Error) Error() string {
	s := fmt.Sprintf("blob %q: %s", e.Path, errNames[e.Kind])
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// variant is e as a value of the error variant.
func (e *Error) variant() value.Variant {
	switch e.Kind {
	case ErrInvalidPath, ErrIO:
		return value.Variant{Case: uint32(e.Kind), Value: e.Error()}
	}
	return value.Variant{Case: uint32(e.Kind)}
}

// Meta is what stat returns.
type Meta struct {
	Size       uint64
	ModifiedNs uint64
	ETag       string
	IsDir      bool
}

var (
	metaType = &value.Type{Kind: value.KindRecord, Name: "meta", Fields: []value.Field{
		{Name: "size", Type: value.U64}, {Name: "modified-ns", Type: value.U64},
		{Name: "etag", Type: value.String}, {Name: "is-dir", Type: value.Bool},
	}}
	errorType = &value.Type{Kind: value.KindVariant, Name: "error", Cases: []value.Case{
		{Name: "invalid-path", Type: value.String}, {Name: "not-found"}, {Name: "wrong-kind"},
		{Name: "read-only"}, {Name: "io", Type: value.String}, {Name: "changed"},
	}}
	pathParam  = value.Param{Name: "path", Type: value.String}
	statType   = &value.FuncType{Params: []value.Param{pathParam}, Results: []value.Param{{Type: value.ResultOf(value.OptionOf(metaType), errorType)}}}
	readType   = &value.FuncType{Params: []value.Param{pathParam, {Name: "offset", Type: value.U64}, {Name: "len", Type: value.U32}, {Name: "if-etag", Type: value.OptionOf(value.String)}}, Results: []value.Param{{Type: value.ResultOf(value.ListOf(value.U8), errorType)}}}
	listType   = &value.FuncType{Params: []value.Param{pathParam}, Results: []value.Param{{Type: value.ResultOf(value.ListOf(value.String), errorType)}}}
	writeType  = &value.FuncType{Params: []value.Param{pathParam, {Name: "data", Type: value.ListOf(value.U8)}}, Results: []value.Param{{Type: value.ResultOf(nil, errorType)}}}
	deleteType = &value.FuncType{Params: []value.Param{pathParam}, Results: []value.Param{{Type: value.ResultOf(value.Bool, errorType)}}}
)

// StoreType is wbox:blob/store as an instance type, for the linker.
func StoreType() *wasmhost.InstanceType {
	return &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		{Name: "meta", Kind: wasmhost.ExternType, Type: metaType},
		{Name: "error", Kind: wasmhost.ExternType, Type: errorType},
		{Name: "stat", Kind: wasmhost.ExternFunc, Func: statType},
		{Name: "read", Kind: wasmhost.ExternFunc, Func: readType},
		{Name: "list", Kind: wasmhost.ExternFunc, Func: listType},
		{Name: "write", Kind: wasmhost.ExternFunc, Func: writeType},
		{Name: "delete", Kind: wasmhost.ExternFunc, Func: deleteType},
	}}
}

// Driver is a blob store task.
type Driver struct {
	name     string
	dir      string // absolute when the driver runs
	readonly bool
	shared   bool

	mu   sync.Mutex
	root *os.Root // nil until first use
}

var _ kernel.Native = (*Driver)(nil)

// New is the kernel.DriverFactory for kind "blob". It acquires nothing:
// the directory is opened on first use. A relative dir is taken relative
// to the working directory; the linker makes it absolute against the
// topology file's directory first.
func New(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
	d := &Driver{name: spec.Name}
	var unknown []string
	for k, v := range spec.Settings {
		switch k {
		case "dir":
			s, ok := v.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("setting dir must be a directory path, not %v", v)
			}
			d.dir = s
		case "readonly", "shared":
			b, ok := v.(bool)
			if !ok {
				return nil, fmt.Errorf("setting %s must be true or false, not %v", k, v)
			}
			if k == "readonly" {
				d.readonly = b
			} else {
				d.shared = b
			}
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown setting %q (blob knows: dir, readonly, shared)", unknown[0])
	}
	switch {
	case d.dir != "":
		abs, err := filepath.Abs(d.dir)
		if err != nil {
			return nil, fmt.Errorf("setting dir %q: %w", d.dir, err)
		}
		d.dir = abs
	case env.DataDir != "":
		d.dir = filepath.Join(env.DataDir, "blobs")
	}
	return d, nil
}

// Dir is the directory the driver serves ("" when it was described only,
// without a data directory).
func (d *Driver) Dir() string { return d.dir }

// Exports implements kernel.Native.
func (d *Driver) Exports() map[string]*wasmhost.InstanceType {
	return map[string]*wasmhost.InstanceType{Interface: StoreType()}
}

// Bind implements kernel.Native: it serves caller its namespace.
func (d *Driver) Bind(caller, export string, imports *wasmhost.HostInstance) error {
	if export != Interface {
		return fmt.Errorf("blob driver %q exports %s, not %s", d.name, Interface, export)
	}
	ns := d.namespace(caller)
	result := func(ok any, err error) []any {
		if err != nil {
			var be *Error
			if !errors.As(err, &be) {
				be = &Error{Kind: ErrIO, Detail: err.Error()}
			}
			return []any{value.Err(be.variant())}
		}
		return []any{value.Ok(ok)}
	}
	imports.TypedFunc("stat", statType, func(ctx context.Context, args []any) ([]any, error) {
		m, ok, err := d.Stat(ns, args[0].(string))
		if err != nil || !ok {
			return result(value.None(), err), nil
		}
		return result(value.Some([]any{m.Size, m.ModifiedNs, m.ETag, m.IsDir}), nil), nil
	})
	imports.TypedFunc("read", readType, func(ctx context.Context, args []any) ([]any, error) {
		var ifETag string
		if o := args[3].(value.Variant); o.Case == 1 {
			ifETag = o.Value.(string)
		}
		b, err := d.Read(ns, args[0].(string), args[1].(uint64), args[2].(uint32), ifETag)
		if b == nil {
			b = []byte{}
		}
		return result(b, err), nil
	})
	imports.TypedFunc("list", listType, func(ctx context.Context, args []any) ([]any, error) {
		names, err := d.List(ns, args[0].(string))
		l := make([]any, len(names))
		for i, n := range names {
			l[i] = n
		}
		return result(l, err), nil
	})
	imports.TypedFunc("write", writeType, func(ctx context.Context, args []any) ([]any, error) {
		return result(nil, d.Write(ns, args[0].(string), args[1].([]byte))), nil
	})
	imports.TypedFunc("delete", deleteType, func(ctx context.Context, args []any) ([]any, error) {
		ok, err := d.Delete(ns, args[0].(string))
		return result(ok, err), nil
	})
	return nil
}

// namespace is the subdirectory caller sees ("" for all of it).
func (d *Driver) namespace(caller string) string {
	if d.shared {
		return ""
	}
	return caller
}

// Run implements kernel.Native: it opens the directory (so a bad dir
// fails the driver at once, named in its events) and holds it until ctx
// ends.
func (d *Driver) Run(ctx context.Context) error {
	if _, err := d.open(); err != nil {
		return err
	}
	<-ctx.Done()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root != nil {
		d.root.Close()
		d.root = nil
	}
	return nil
}

// open returns the os.Root of the directory, opening it (and creating it
// unless read-only) on first use.
func (d *Driver) open() (*os.Root, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.root != nil {
		return d.root, nil
	}
	if d.dir == "" {
		return nil, fmt.Errorf("blob driver %q has no directory (no dir setting and no data directory)", d.name)
	}
	if !d.readonly {
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return nil, fmt.Errorf("blob driver %q: %w", d.name, err)
		}
	}
	r, err := os.OpenRoot(d.dir)
	if err != nil {
		return nil, fmt.Errorf("blob driver %q: dir: %w", d.name, err)
	}
	d.root = r
	return r, nil
}

// validPath reports why p is not a clean relative path ("" if it is).
// allowRoot accepts "" for the root directory.
func validPath(p string, allowRoot bool) string {
	switch {
	case p == "":
		if allowRoot {
			return ""
		}
		return "empty path"
	case strings.HasPrefix(p, "/"):
		return "absolute path (paths are relative to the store)"
	case strings.ContainsAny(p, "\\\x00"):
		return "backslash or NUL in the path"
	case len(p) > 4096:
		return "path longer than 4096 bytes"
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return "empty path segment"
		case seg == "." || seg == "..":
			return fmt.Sprintf("%q segment", seg)
		case strings.HasPrefix(seg, tmpPrefix):
			return "reserved name " + seg
		}
	}
	return ""
}

// resolve checks p and returns it as a name inside the root.
func (d *Driver) resolve(ns, p string, allowRoot bool) (*os.Root, string, error) {
	if why := validPath(p, allowRoot); why != "" {
		return nil, "", &Error{Kind: ErrInvalidPath, Path: p, Detail: why}
	}
	r, err := d.open()
	if err != nil {
		return nil, "", &Error{Kind: ErrIO, Path: p, Detail: err.Error()}
	}
	name := path.Join(ns, p)
	if name == "" {
		name = "."
	}
	return r, name, nil
}

// fail turns an error of the os.Root into the box's error for path p.
func fail(p string, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Kind: ErrNotFound, Path: p}
	case errors.Is(err, fs.ErrPermission):
		return &Error{Kind: ErrIO, Path: p, Detail: "permission denied"}
	case errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes from parent"):
		return &Error{Kind: ErrInvalidPath, Path: p, Detail: "it leads out of the store (a symbolic link?)"}
	case strings.Contains(err.Error(), "not a directory"), strings.Contains(err.Error(), "is a directory"):
		return &Error{Kind: ErrWrongKind, Path: p}
	}
	return &Error{Kind: ErrIO, Path: p, Detail: err.Error()}
}

func meta(fi fs.FileInfo) Meta {
	m := Meta{ModifiedNs: uint64(fi.ModTime().UnixNano()), IsDir: fi.IsDir()}
	if !m.IsDir {
		m.Size = uint64(fi.Size())
	}
	m.ETag = strconv.FormatUint(m.Size, 36) + "-" + strconv.FormatUint(m.ModifiedNs, 36)
	return m
}

// Stat describes path p in namespace ns.
func (d *Driver) Stat(ns, p string) (Meta, bool, error) {
	r, name, err := d.resolve(ns, p, true)
	if err != nil {
		return Meta{}, false, err
	}
	fi, err := r.Stat(name)
	if err != nil {
		if err := fail(p, err); err.(*Error).Kind != ErrNotFound && err.(*Error).Kind != ErrWrongKind {
			return Meta{}, false, err
		}
		return Meta{}, false, nil
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return Meta{}, false, nil // devices, sockets: not blobs
	}
	return meta(fi), true, nil
}

// Read reads up to n bytes (at most MaxRead) of file p from off; with
// ifETag != "", only while the file's ETag is still ifETag.
func (d *Driver) Read(ns, p string, off uint64, n uint32, ifETag string) ([]byte, error) {
	r, name, err := d.resolve(ns, p, false)
	if err != nil {
		return nil, err
	}
	f, err := r.Open(name)
	if err != nil {
		return nil, fail(p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fail(p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{Kind: ErrWrongKind, Path: p}
	}
	if ifETag != "" && meta(fi).ETag != ifETag {
		return nil, &Error{Kind: ErrChanged, Path: p}
	}
	size := uint64(fi.Size())
	if off >= size || n == 0 {
		return nil, nil
	}
	want := min(uint64(n), MaxRead, size-off)
	buf := make([]byte, want)
	got, err := f.ReadAt(buf, int64(off))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fail(p, err)
	}
	return buf[:got], nil
}

// List lists directory p ("" for the root) of namespace ns; directories
// end in "/". A namespace nothing was written to yet is empty.
func (d *Driver) List(ns, p string) ([]string, error) {
	r, name, err := d.resolve(ns, p, true)
	if err != nil {
		return nil, err
	}
	f, err := r.Open(name)
	if err != nil {
		if p == "" && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fail(p, err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, fail(p, err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		switch {
		case strings.HasPrefix(n, tmpPrefix):
			continue
		case e.IsDir():
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Write replaces file p of namespace ns with data, atomically.
func (d *Driver) Write(ns, p string, data []byte) error {
	if d.readonly {
		return &Error{Kind: ErrReadOnly, Path: p}
	}
	r, name, err := d.resolve(ns, p, false)
	if err != nil {
		return err
	}
	dir := path.Dir(name)
	if err := r.MkdirAll(dir, 0o755); err != nil {
		return fail(p, err)
	}
	if fi, err := r.Lstat(name); err == nil && fi.IsDir() {
		return &Error{Kind: ErrWrongKind, Path: p}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, tmpPrefix+hex.EncodeToString(rnd[:]))
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fail(p, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, name)
	}
	if err != nil {
		r.Remove(tmp)
		return fail(p, err)
	}
	return syncDir(r, dir)
}

// Delete removes file p of namespace ns.
func (d *Driver) Delete(ns, p string) (bool, error) {
	if d.readonly {
		return false, &Error{Kind: ErrReadOnly, Path: p}
	}
	r, name, err := d.resolve(ns, p, false)
	if err != nil {
		return false, err
	}
	fi, err := r.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fail(p, err)
	case fi.IsDir():
		return false, &Error{Kind: ErrWrongKind, Path: p}
	}
	if err := r.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fail(p, err)
	}
	return true, syncDir(r, path.Dir(name))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(r *os.Root, dir string) error {
	f, err := r.Open(dir)
	if err != nil {
		return fail(dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fail(dir, err)
	}
	return nil
}

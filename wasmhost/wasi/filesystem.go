package wasi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// wasi:filesystem/types and wasi:filesystem/preopens.

// preopen is a directory granted by Config.Preopens.
type preopen struct {
	guest    string
	readOnly bool
	root     *os.Root
}

// descriptor is a wasi:filesystem descriptor: a directory (root set, and
// confined to it) or anything else (file set).
type descriptor struct {
	pre   *preopen
	rel   string   // slash path inside pre.root; "." is the preopen itself
	root  *os.Root // directories
	file  *os.File // files and the rest
	typ   uint32   // descriptor-type case
	flags uint64   // descriptor-flags
	mu    sync.Mutex
}

func (d *descriptor) close() error {
	if d.root != nil {
		return d.root.Close()
	}
	return d.file.Close()
}

func (d *descriptor) stat() (fs.FileInfo, error) {
	if d.root != nil {
		return d.root.Stat(".")
	}
	return d.file.Stat()
}

// descriptor-flags bits.
const (
	flagRead     = 1 << 0
	flagWrite    = 1 << 1
	flagFileSync = 1 << 2
	flagDataSync = 1 << 3
	flagReadSync = 1 << 4
	flagMutate   = 1 << 5
)

// path-flags and open-flags bits.
const (
	pathSymlinkFollow = 1 << 0

	openCreate    = 1 << 0
	openDirectory = 1 << 1
	openExclusive = 1 << 2
	openTruncate  = 1 << 3
)

// descriptor-type cases.
const (
	typeUnknown = iota
	typeBlockDevice
	typeCharDevice
	typeDirectory
	typeFIFO
	typeSymlink
	typeRegular
	typeSocket
)

func typeOf(m fs.FileMode) uint32 {
	switch {
	case m.IsDir():
		return typeDirectory
	case m&fs.ModeSymlink != 0:
		return typeSymlink
	case m.IsRegular():
		return typeRegular
	case m&fs.ModeNamedPipe != 0:
		return typeFIFO
	case m&fs.ModeSocket != 0:
		return typeSocket
	case m&fs.ModeCharDevice != 0:
		return typeCharDevice
	case m&fs.ModeDevice != 0:
		return typeBlockDevice
	}
	return typeUnknown
}

// sysInfo is what the platform's stat adds to fs.FileInfo.
type sysInfo struct {
	nlink, dev, ino uint64
	atime, ctime    time.Time
	ok              bool // dev, ino and the times are known
}

// fileStreamErr marks stream errors of files, so that
// filesystem-error-code recognizes them.
type fileStreamErr struct{ err error }

func (e *fileStreamErr) Error() string { return e.err.Error() }
func (e *fileStreamErr) Unwrap() error { return e.err }

// fileReader is the source of read-via-stream.
type fileReader struct {
	d   *descriptor
	off int64
}

func (r *fileReader) read(_ context.Context, p []byte, _ bool) (int, error) {
	n, err := r.d.file.ReadAt(p, r.off)
	r.off += int64(n)
	switch {
	case n > 0 || len(p) == 0:
		return n, nil
	case err == io.EOF:
		return 0, io.EOF
	case err != nil:
		return 0, &fileStreamErr{err}
	}
	return 0, nil
}

// fileWriter is the sink of write-via-stream and append-via-stream.
type fileWriter struct {
	d      *descriptor
	off    int64
	append bool
}

func (w *fileWriter) write(p []byte) error {
	if w.append {
		w.d.mu.Lock()
		defer w.d.mu.Unlock()
		if _, err := w.d.file.Seek(0, io.SeekEnd); err != nil {
			return &fileStreamErr{err}
		}
		if _, err := w.d.file.Write(p); err != nil {
			return &fileStreamErr{err}
		}
		return nil
	}
	n, err := w.d.file.WriteAt(p, w.off)
	w.off += int64(n)
	if err != nil {
		return &fileStreamErr{err}
	}
	return nil
}

func (w *fileWriter) flush() error { return nil }

// dirStream is a directory-entry-stream.
type dirStream struct {
	mu   sync.Mutex
	f    *os.File
	buf  []fs.DirEntry
	done bool
}

func (s *dirStream) next() (fs.DirEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.buf) == 0 {
		if s.done {
			return nil, nil
		}
		ents, err := s.f.ReadDir(64)
		s.buf = ents
		if err == io.EOF || (err == nil && len(ents) == 0) {
			s.done = true
		} else if err != nil {
			return nil, err
		}
	}
	e := s.buf[0]
	s.buf = s.buf[1:]
	return e, nil
}

func (s *dirStream) close() error { return s.f.Close() }

// checkPath refuses paths that leave the directory lexically: absolute ones
// and ".." above the start. Symbolic links are os.Root's business.
func checkPath(op, p string) error {
	switch {
	case p == "":
		return fail(codeNoEntry, op)
	case strings.IndexByte(p, 0) >= 0:
		return fail(codeInvalid, op)
	case p[0] == '/' || p[0] == '\\':
		return fail(codeNotPermitted, op)
	case !within(p):
		return fail(codeNotPermitted, op)
	}
	return nil
}

// within reports whether the relative slash path p stays below its start.
func within(p string) bool {
	depth := 0
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return true
}

// timeOf converts a new-timestamp; the zero Time leaves a time unchanged.
func timeOf(v any) time.Time {
	nt, _ := v.(value.Variant)
	switch nt.Case {
	case 1:
		return time.Now()
	case 2:
		dt, _ := nt.Value.([]any)
		if len(dt) == 2 {
			sec, _ := dt[0].(uint64)
			nsec, _ := dt[1].(uint32)
			return time.Unix(int64(min(sec, math.MaxInt64/2)), int64(nsec))
		}
	}
	return time.Time{}
}

// optTime is an option<datetime>.
func optTime(t time.Time) value.Variant {
	if t.IsZero() || t.Unix() < 0 {
		return value.None()
	}
	return value.Some(datetime(uint64(t.Unix()), uint32(t.Nanosecond())))
}

// statValue is a descriptor-stat.
func statValue(fi fs.FileInfo) []any {
	si := sysStat(fi)
	return []any{
		value.Variant{Case: typeOf(fi.Mode())},
		si.nlink,
		uint64(fi.Size()),
		optTime(si.atime),
		optTime(fi.ModTime()),
		optTime(si.ctime),
	}
}

// metaHash is a metadata-hash-value: a keyed hash of the object's identity,
// size and modification time.
func (h *Host) metaHash(fi fs.FileInfo) ([]any, error) {
	h.mu.Lock()
	if h.hashKey == nil {
		var k [16]byte
		if err := cryptoRead(k[:]); err != nil {
			h.mu.Unlock()
			return nil, err
		}
		h.hashKey = &k
	}
	key := *h.hashKey
	h.mu.Unlock()
	si := sysStat(fi)
	var b [8 * 5]byte
	binary.LittleEndian.PutUint64(b[0:], si.dev)
	binary.LittleEndian.PutUint64(b[8:], si.ino)
	binary.LittleEndian.PutUint64(b[16:], uint64(fi.Size()))
	binary.LittleEndian.PutUint64(b[24:], uint64(fi.ModTime().UnixNano()))
	binary.LittleEndian.PutUint64(b[32:], uint64(fi.Mode()))
	s := sha256.New()
	s.Write(key[:])
	s.Write(b[:])
	if !si.ok {
		s.Write([]byte(fi.Name()))
	}
	sum := s.Sum(nil)
	return []any{binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])}, nil
}

// fsResult is the result<T, error-code> of v, or of err when set.
func fsResult(v any, err error) ([]any, error) {
	if err != nil {
		return []any{value.Err(value.Variant{Case: uint32(codeOf(err))})}, nil
	}
	return ok(v), nil
}

func (b *binding) registerFilesystem() {
	h := b.h
	const typesIface = "wasi:filesystem/types"
	ti := b.instance(typesIface)
	ti.AliasResource("input-stream", b.inputRT).AliasResource("output-stream", b.outputRT).AliasResource("error", b.errorRT)
	b.descRT = b.resource(ti, "descriptor", dropper(h, &h.descs, func(d *descriptor) { d.close() }))
	b.dirStreamRT = b.resource(ti, "directory-entry-stream", dropper(h, &h.dirStreams, func(s *dirStream) { s.close() }))

	descType := enum("descriptor-type", "unknown", "block-device", "character-device", "directory",
		"fifo", "symbolic-link", "regular-file", "socket")
	descFlags := flags("descriptor-flags", "read", "write", "file-integrity-sync", "data-integrity-sync",
		"requested-write-sync", "mutate-directory")
	pathFlags := flags("path-flags", "symlink-follow")
	openFlags := flags("open-flags", "create", "directory", "exclusive", "truncate")
	descStat := record("descriptor-stat",
		"type", descType,
		"link-count", u64T,
		"size", u64T,
		"data-access-timestamp", value.OptionOf(datetimeT),
		"data-modification-timestamp", value.OptionOf(datetimeT),
		"status-change-timestamp", value.OptionOf(datetimeT))
	newTimestamp := &value.Type{Kind: value.KindVariant, Name: "new-timestamp", Cases: []value.Case{
		{Name: "no-change"}, {Name: "now"}, {Name: "timestamp", Type: datetimeT},
	}}
	dirEntry := record("directory-entry", "type", descType, "name", stringT)
	errorCodeT := enum("error-code", errorCodeLabels...)
	advice := enum("advice", "normal", "sequential", "random", "will-need", "dont-need", "no-reuse")
	hashValue := record("metadata-hash-value", "lower", u64T, "upper", u64T)
	res := func(t *value.Type) *value.Type { return value.ResultOf(t, errorCodeT) }
	borrowDesc := value.Borrow(b.descRT)

	// def registers a descriptor method; f gets the descriptor.
	def := func(name string, result *value.Type, params []any, f func(ctx context.Context, d *descriptor, args []any) ([]any, error)) {
		b.def(ti, typesIface, methodName("descriptor", name), method(b.descRT, result, params...),
			func(ctx context.Context, args []any) ([]any, error) {
				d, err := lookup(h, &h.descs, "descriptor", args[0])
				if err != nil {
					return nil, err
				}
				return f(ctx, d, args[1:])
			})
	}
	p := func(kv ...any) []any { return kv }
	str := func(v any) string { s, _ := v.(string); return s }
	u64 := func(v any) uint64 { n, _ := v.(uint64); return n }
	flagBits := func(v any) uint64 { n, _ := v.(uint64); return n }

	// Preconditions, as errors.
	isFile := func(d *descriptor, op string) error {
		if d.file == nil {
			return fail(codeIsDirectory, op)
		}
		return nil
	}
	isDir := func(d *descriptor, op string) error {
		if d.root == nil {
			return fail(codeNotDirectory, op)
		}
		return nil
	}
	canWrite := func(d *descriptor, op string) error {
		if d.pre.readOnly {
			return fail(codeReadOnly, op)
		}
		return nil
	}
	// mutable is a directory below a writable preopen, and a valid path.
	mutable := func(d *descriptor, op string, paths ...string) error {
		if err := isDir(d, op); err != nil {
			return err
		}
		if err := canWrite(d, op); err != nil {
			return err
		}
		for _, q := range paths {
			if err := checkPath(op, q); err != nil {
				return err
			}
		}
		return nil
	}
	first := func(errs ...error) error {
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
		return nil
	}
	statAt := func(d *descriptor, pf uint64, q string) (fs.FileInfo, error) {
		if pf&pathSymlinkFollow != 0 {
			return d.root.Stat(q)
		}
		return d.root.Lstat(q)
	}

	def("read-via-stream", res(value.Own(b.inputRT)), p("offset", u64T), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "read-via-stream"
		off := u64(a[0])
		if err := isFile(d, op); err != nil {
			return fsResult(nil, err)
		}
		if d.flags&flagRead == 0 {
			return fsResult(nil, fail(codeBadDescriptor, op))
		}
		if off > math.MaxInt64 {
			return fsResult(nil, fail(codeInvalid, op))
		}
		hd, err := b.newInput(&fileReader{d: d, off: int64(off)})
		if err != nil {
			return nil, err
		}
		return ok(hd), nil
	})
	writeStream := func(op string, appending bool) func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		return func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
			var off uint64
			if !appending {
				off = u64(a[0])
			}
			if err := first(isFile(d, op), canWrite(d, op)); err != nil {
				return fsResult(nil, err)
			}
			if d.flags&flagWrite == 0 {
				return fsResult(nil, fail(codeBadDescriptor, op))
			}
			if off > math.MaxInt64 {
				return fsResult(nil, fail(codeInvalid, op))
			}
			hd, err := b.newOutput(&fileWriter{d: d, off: int64(off), append: appending})
			if err != nil {
				return nil, err
			}
			return ok(hd), nil
		}
	}
	def("write-via-stream", res(value.Own(b.outputRT)), p("offset", u64T), writeStream("write-via-stream", false))
	def("append-via-stream", res(value.Own(b.outputRT)), nil, writeStream("append-via-stream", true))
	def("advise", res(nil), p("offset", u64T, "length", u64T, "advice", advice), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		return fsResult(nil, isFile(d, "advise")) // advice is only advice
	})
	syncFn := func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		if d.file != nil {
			return fsResult(nil, d.file.Sync())
		}
		f, err := d.root.Open(".")
		if err != nil {
			return fsResult(nil, err)
		}
		defer f.Close()
		return fsResult(nil, f.Sync())
	}
	def("sync-data", res(nil), nil, syncFn)
	def("sync", res(nil), nil, syncFn)
	def("get-flags", res(descFlags), nil, func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		return ok(d.flags), nil
	})
	def("get-type", res(descType), nil, func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		return ok(value.Variant{Case: d.typ}), nil
	})
	def("set-size", res(nil), p("size", u64T), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "set-size"
		size := u64(a[0])
		if err := first(isFile(d, op), canWrite(d, op)); err != nil {
			return fsResult(nil, err)
		}
		if d.flags&flagWrite == 0 {
			return fsResult(nil, fail(codeBadDescriptor, op))
		}
		if size > math.MaxInt64 {
			return fsResult(nil, fail(codeFileTooLarge, op))
		}
		return fsResult(nil, d.file.Truncate(int64(size)))
	})
	def("set-times", res(nil), p("data-access-timestamp", newTimestamp, "data-modification-timestamp", newTimestamp),
		func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
			if err := canWrite(d, "set-times"); err != nil {
				return fsResult(nil, err)
			}
			at, mt := timeOf(a[0]), timeOf(a[1])
			if d.file != nil {
				if done, err := setFileTimes(d.file, at, mt); done {
					return fsResult(nil, err)
				}
			}
			return fsResult(nil, d.pre.root.Chtimes(d.rel, at, mt))
		})
	def("read", res(value.TupleOf(bytesT, boolT)), p("length", u64T, "offset", u64T), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "read"
		n, off := u64(a[0]), u64(a[1])
		if err := isFile(d, op); err != nil {
			return fsResult(nil, err)
		}
		if d.flags&flagRead == 0 {
			return fsResult(nil, fail(codeBadDescriptor, op))
		}
		if off > math.MaxInt64 {
			return fsResult(nil, fail(codeInvalid, op))
		}
		buf := make([]byte, readLen(n))
		got, err := d.file.ReadAt(buf, int64(off))
		if err != nil && err != io.EOF {
			return fsResult(nil, err)
		}
		return ok([]any{buf[:got], err == io.EOF}), nil
	})
	def("write", res(u64T), p("buffer", bytesT, "offset", u64T), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "write"
		buf, _ := a[0].([]byte)
		off := u64(a[1])
		if err := first(isFile(d, op), canWrite(d, op)); err != nil {
			return fsResult(nil, err)
		}
		if d.flags&flagWrite == 0 {
			return fsResult(nil, fail(codeBadDescriptor, op))
		}
		if off > math.MaxInt64 {
			return fsResult(nil, fail(codeInvalid, op))
		}
		n, err := d.file.WriteAt(buf, int64(off))
		if err != nil {
			return fsResult(nil, err)
		}
		return ok(uint64(n)), nil
	})
	def("read-directory", res(value.Own(b.dirStreamRT)), nil, func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		if err := isDir(d, "read-directory"); err != nil {
			return fsResult(nil, err)
		}
		f, err := d.root.Open(".")
		if err != nil {
			return fsResult(nil, err)
		}
		hd, err := insert(h, &h.dirStreams, b.dirStreamRT, &dirStream{f: f})
		if err != nil {
			f.Close()
			return nil, err
		}
		return ok(hd), nil
	})
	def("create-directory-at", res(nil), p("path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		q := str(a[0])
		if err := mutable(d, "create-directory-at", q); err != nil {
			return fsResult(nil, err)
		}
		return fsResult(nil, d.root.Mkdir(q, 0o777))
	})
	def("stat", res(descStat), nil, func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		fi, err := d.stat()
		if err != nil {
			return fsResult(nil, err)
		}
		return ok(statValue(fi)), nil
	})
	def("stat-at", res(descStat), p("path-flags", pathFlags, "path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "stat-at"
		q := str(a[1])
		if err := first(isDir(d, op), checkPath(op, q)); err != nil {
			return fsResult(nil, err)
		}
		fi, err := statAt(d, flagBits(a[0]), q)
		if err != nil {
			return fsResult(nil, err)
		}
		return ok(statValue(fi)), nil
	})
	def("set-times-at", res(nil), p("path-flags", pathFlags, "path", stringT, "data-access-timestamp", newTimestamp, "data-modification-timestamp", newTimestamp),
		func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
			const op = "set-times-at"
			q := str(a[1])
			if err := mutable(d, op, q); err != nil {
				return fsResult(nil, err)
			}
			if flagBits(a[0])&pathSymlinkFollow == 0 {
				fi, err := d.root.Lstat(q)
				if err != nil {
					return fsResult(nil, err)
				}
				if fi.Mode()&fs.ModeSymlink != 0 {
					// Go has no lutimes; a link's own times stay as they are.
					return fsResult(nil, fail(codeUnsupported, op))
				}
			}
			return fsResult(nil, d.root.Chtimes(q, timeOf(a[2]), timeOf(a[3])))
		})
	// twoDirs resolves an operation between d/old and nd/new: on one root
	// when both are the same descriptor, else on their common preopen.
	twoDirs := func(op string, d *descriptor, old string, ndArg any, newPath string, do func(root *os.Root, old, new string) error) ([]any, error) {
		nd, err := lookup(h, &h.descs, "descriptor", ndArg)
		if err != nil {
			return nil, err
		}
		if err := first(mutable(d, op, old), mutable(nd, op, newPath)); err != nil {
			return fsResult(nil, err)
		}
		switch {
		case nd == d:
			return fsResult(nil, do(d.root, old, newPath))
		case nd.pre == d.pre:
			return fsResult(nil, do(d.pre.root, path.Join(d.rel, old), path.Join(nd.rel, newPath)))
		}
		return fsResult(nil, fail(codeCrossDevice, op))
	}
	def("link-at", res(nil), p("old-path-flags", pathFlags, "old-path", stringT, "new-descriptor", borrowDesc, "new-path", stringT),
		func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
			return twoDirs("link-at", d, str(a[1]), a[2], str(a[3]), (*os.Root).Link)
		})
	def("open-at", res(value.Own(b.descRT)), p("path-flags", pathFlags, "path", stringT, "open-flags", openFlags, "flags", descFlags),
		func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
			nd, err := openAt(d, flagBits(a[0]), str(a[1]), flagBits(a[2]), flagBits(a[3]))
			if err != nil {
				return fsResult(nil, err)
			}
			hd, err := insert(h, &h.descs, b.descRT, nd)
			if err != nil {
				nd.close()
				return nil, err
			}
			return ok(hd), nil
		})
	def("readlink-at", res(stringT), p("path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "readlink-at"
		q := str(a[0])
		if err := first(isDir(d, op), checkPath(op, q)); err != nil {
			return fsResult(nil, err)
		}
		return fsResult(d.root.Readlink(q))
	})
	def("remove-directory-at", res(nil), p("path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "remove-directory-at"
		q := str(a[0])
		if err := mutable(d, op, q); err != nil {
			return fsResult(nil, err)
		}
		fi, err := d.root.Lstat(q)
		if err != nil {
			return fsResult(nil, err)
		}
		if !fi.IsDir() {
			return fsResult(nil, fail(codeNotDirectory, op))
		}
		return fsResult(nil, d.root.Remove(q))
	})
	def("rename-at", res(nil), p("old-path", stringT, "new-descriptor", borrowDesc, "new-path", stringT),
		func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
			return twoDirs("rename-at", d, str(a[0]), a[1], str(a[2]), (*os.Root).Rename)
		})
	def("symlink-at", res(nil), p("old-path", stringT, "new-path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "symlink-at"
		target, q := str(a[0]), str(a[1])
		if err := mutable(d, op, q); err != nil {
			return fsResult(nil, err)
		}
		// The link must not point out of the preopen, even though os.Root
		// would not follow it there: other programs on the host would.
		if target == "" {
			return fsResult(nil, fail(codeNoEntry, op))
		}
		if target[0] == '/' || !within(path.Dir(path.Join(d.rel, q))+"/"+target) {
			return fsResult(nil, fail(codeNotPermitted, op))
		}
		return fsResult(nil, d.root.Symlink(target, q))
	})
	def("unlink-file-at", res(nil), p("path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "unlink-file-at"
		q := str(a[0])
		if err := mutable(d, op, q); err != nil {
			return fsResult(nil, err)
		}
		fi, err := d.root.Lstat(q)
		if err != nil {
			return fsResult(nil, err)
		}
		if fi.IsDir() {
			return fsResult(nil, fail(codeIsDirectory, op))
		}
		return fsResult(nil, d.root.Remove(q))
	})
	def("is-same-object", boolT, p("other", borrowDesc), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		o, err := lookup(h, &h.descs, "descriptor", a[0])
		if err != nil {
			return nil, err
		}
		f1, err1 := d.stat()
		f2, err2 := o.stat()
		return one(err1 == nil && err2 == nil && os.SameFile(f1, f2)), nil
	})
	def("metadata-hash", res(hashValue), nil, func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		fi, err := d.stat()
		if err != nil {
			return fsResult(nil, err)
		}
		v, err := h.metaHash(fi)
		if err != nil {
			return nil, err
		}
		return ok(v), nil
	})
	def("metadata-hash-at", res(hashValue), p("path-flags", pathFlags, "path", stringT), func(ctx context.Context, d *descriptor, a []any) ([]any, error) {
		const op = "metadata-hash-at"
		q := str(a[1])
		if err := first(isDir(d, op), checkPath(op, q)); err != nil {
			return fsResult(nil, err)
		}
		fi, err := statAt(d, flagBits(a[0]), q)
		if err != nil {
			return fsResult(nil, err)
		}
		v, err := h.metaHash(fi)
		if err != nil {
			return nil, err
		}
		return ok(v), nil
	})

	b.def(ti, typesIface, methodName("directory-entry-stream", "read-directory-entry"),
		method(b.dirStreamRT, res(value.OptionOf(dirEntry))),
		func(ctx context.Context, args []any) ([]any, error) {
			s, err := lookup(h, &h.dirStreams, "directory-entry-stream", args[0])
			if err != nil {
				return nil, err
			}
			e, err := s.next()
			if err != nil {
				return fsResult(nil, err)
			}
			if e == nil {
				return ok(value.None()), nil
			}
			return ok(some([]any{value.Variant{Case: typeOf(e.Type())}, e.Name()})), nil
		})
	b.def(ti, typesIface, "filesystem-error-code", fn(value.OptionOf(errorCodeT), "err", value.Borrow(b.errorRT)),
		func(ctx context.Context, args []any) ([]any, error) {
			e, err := lookup(h, &h.errs, "error", args[0])
			if err != nil {
				return nil, err
			}
			if !e.fs {
				return one(value.None()), nil
			}
			return one(some(value.Variant{Case: uint32(codeOf(e.err))})), nil
		})

	const preopensIface = "wasi:filesystem/preopens"
	pi := b.instance(preopensIface).AliasResource("descriptor", b.descRT)
	b.def(pi, preopensIface, "get-directories", fn(value.ListOf(value.TupleOf(value.Own(b.descRT), stringT))),
		func(ctx context.Context, args []any) ([]any, error) {
			ps, err := h.openPreopens()
			if err != nil {
				return nil, err
			}
			l := make([]any, 0, len(ps))
			for _, p := range ps {
				root, err := p.root.OpenRoot(".")
				if err != nil {
					return nil, err
				}
				var fl uint64 = flagRead
				if !p.readOnly {
					fl |= flagMutate
				}
				hd, err := insert(h, &h.descs, b.descRT, &descriptor{pre: p, rel: ".", root: root, typ: typeDirectory, flags: fl})
				if err != nil {
					root.Close()
					return nil, err
				}
				l = append(l, []any{hd, p.guest})
			}
			return one(l), nil
		})
}

// openAt is descriptor.open-at.
func openAt(d *descriptor, pf uint64, q string, of, df uint64) (*descriptor, error) {
	const op = "open-at"
	if d.root == nil {
		return nil, fail(codeNotDirectory, op)
	}
	if err := checkPath(op, q); err != nil {
		return nil, err
	}
	create, trunc := of&openCreate != 0, of&openTruncate != 0
	if d.pre.readOnly && (create || trunc || df&(flagWrite) != 0) {
		return nil, fail(codeReadOnly, op)
	}
	var fi fs.FileInfo
	var err error
	if pf&pathSymlinkFollow != 0 {
		fi, err = d.root.Stat(q)
	} else {
		fi, err = d.root.Lstat(q)
	}
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	switch {
	case exists && create && of&openExclusive != 0:
		return nil, fail(codeExist, op)
	case exists && fi.Mode()&fs.ModeSymlink != 0:
		// Not following the last component: a link cannot be opened.
		return nil, fail(codeLoop, op)
	case exists && fi.IsDir():
		if df&flagWrite != 0 || trunc {
			return nil, fail(codeIsDirectory, op)
		}
		return openDir(d, q, df)
	case exists && of&openDirectory != 0:
		return nil, fail(codeNotDirectory, op)
	case !exists && of&openDirectory != 0:
		if create {
			return nil, fail(codeInvalid, op)
		}
		return nil, fail(codeNoEntry, op)
	}
	flag := os.O_RDONLY
	switch {
	case df&flagRead != 0 && df&flagWrite != 0:
		flag = os.O_RDWR
	case df&flagWrite != 0:
		flag = os.O_WRONLY
	}
	if create {
		flag |= os.O_CREATE
		if of&openExclusive != 0 {
			flag |= os.O_EXCL
		}
	}
	if trunc {
		flag |= os.O_TRUNC
	}
	if df&(flagFileSync|flagDataSync) != 0 {
		flag |= os.O_SYNC
	}
	f, err := d.root.OpenFile(q, flag, 0o666)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() { // it changed under us
		f.Close()
		if df&flagWrite != 0 || trunc {
			return nil, fail(codeIsDirectory, op)
		}
		return openDir(d, q, df)
	}
	return &descriptor{
		pre: d.pre, rel: path.Join(d.rel, q), file: f, typ: typeOf(st.Mode()),
		flags: df & (flagRead | flagWrite | flagFileSync | flagDataSync | flagReadSync),
	}, nil
}

func openDir(d *descriptor, q string, df uint64) (*descriptor, error) {
	root, err := d.root.OpenRoot(q)
	if err != nil {
		return nil, err
	}
	fl := df & (flagRead | flagFileSync | flagDataSync | flagReadSync)
	if !d.pre.readOnly {
		fl |= flagMutate
	}
	return &descriptor{pre: d.pre, rel: path.Join(d.rel, q), root: root, typ: typeDirectory, flags: fl}, nil
}

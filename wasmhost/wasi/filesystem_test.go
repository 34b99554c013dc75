package wasi

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

func m(name string) string { return "wasi:filesystem/types#[method]descriptor." + name }

const (
	fReadDirEntry = "wasi:filesystem/types#[method]directory-entry-stream.read-directory-entry"
	fErrorCode    = "wasi:filesystem/types#filesystem-error-code"
	fGetDirs      = "wasi:filesystem/preopens#get-directories"
)

// Flag values.
const (
	follow   = uint64(pathSymlinkFollow)
	noFollow = uint64(0)
	rd       = uint64(flagRead)
	wr       = uint64(flagWrite)
	rw       = rd | wr
)

// fsFixture makes <tmp>/root (preopened) and <tmp>/outside (not), with
// links in root that try to get out.
func fsFixture(t *testing.T, readOnly bool) (*tester, value.Handle, string) {
	t.Helper()
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	must(t, os.Mkdir(root, 0o755))
	must(t, os.Mkdir(filepath.Join(tmp, "outside"), 0o755))
	must(t, os.WriteFile(filepath.Join(tmp, "outside", "secret"), []byte("secret"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello, world"), 0o644))
	must(t, os.Symlink("../outside", filepath.Join(root, "escape")))
	must(t, os.Symlink(filepath.Join(tmp, "outside", "secret"), filepath.Join(root, "abs")))
	must(t, os.Symlink("hello.txt", filepath.Join(root, "link")))
	x := newTester(t, Config{Preopens: []Preopen{{HostDir: root, GuestPath: "/data", ReadOnly: readOnly}}})
	dirs := x.call(fGetDirs).([]any)
	if len(dirs) != 1 {
		t.Fatalf("get-directories = %v", dirs)
	}
	pair := dirs[0].([]any)
	if pair[1] != "/data" {
		t.Errorf("guest path %v", pair[1])
	}
	d := handle(pair[0])
	if d.Type.Name != "descriptor" || d.Type.Interface != "wasi:filesystem/types@0.2.0" {
		t.Errorf("descriptor type %v", d.Type)
	}
	return x, d, root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNoPreopens(t *testing.T) {
	x := newTester(t, Config{})
	if got := x.call(fGetDirs).([]any); len(got) != 0 {
		t.Errorf("get-directories = %v, want nothing", got)
	}
	bad := newTester(t, Config{Preopens: []Preopen{{HostDir: filepath.Join(t.TempDir(), "missing")}}})
	if _, err := bad.try(t.Context(), fGetDirs); err == nil {
		t.Error("a missing preopen directory did not fail")
	}
}

func TestFileReadWrite(t *testing.T) {
	x, d, root := fsFixture(t, false)
	if got := x.ok(m("get-flags"), d); got != uint64(flagRead|flagMutate) {
		t.Errorf("preopen flags %b", got)
	}
	if got := x.ok(m("get-type"), d); got != (value.Variant{Case: typeDirectory}) {
		t.Errorf("preopen type %v", got)
	}

	f := x.ok(m("open-at"), d, follow, "new.txt", uint64(openCreate|openExclusive), rw)
	if got := x.ok(m("write"), f, []byte("0123456789"), uint64(0)); got != uint64(10) {
		t.Errorf("write = %v", got)
	}
	x.ok(m("write"), f, []byte("AB"), uint64(3))
	if got := fmt.Sprintf("%q", x.ok(m("read"), f, uint64(100), uint64(0))); got != `["012AB56789" %!q(bool=true)]` {
		t.Errorf("read = %s", got)
	}
	if got := fmt.Sprintf("%q", x.ok(m("read"), f, uint64(2), uint64(1))); got != `["12" %!q(bool=false)]` {
		t.Errorf("read = %s", got)
	}
	if got := x.ok(m("get-flags"), f); got != rw {
		t.Errorf("file flags %b", got)
	}
	st := x.ok(m("stat"), f).([]any)
	if st[0] != (value.Variant{Case: typeRegular}) || st[1] != uint64(1) || st[2] != uint64(10) {
		t.Errorf("stat = %v", st)
	}
	for i := 3; i < 6; i++ {
		if st[i].(value.Variant).Case != 1 {
			t.Errorf("stat timestamp %d is none", i)
		}
	}
	if mt := st[4].(value.Variant).Value.([]any)[0].(uint64); time.Since(time.Unix(int64(mt), 0)) > time.Minute {
		t.Errorf("mtime %d is not now", mt)
	}
	x.ok(m("set-size"), f, uint64(4))
	x.ok(m("sync"), f)
	x.ok(m("sync-data"), f)
	x.ok(m("sync"), d)
	x.ok(m("advise"), f, uint64(0), uint64(4), value.Variant{Case: 1})
	if data, _ := os.ReadFile(filepath.Join(root, "new.txt")); string(data) != "012A" {
		t.Errorf("file holds %q", data)
	}

	// Streams.
	ws := x.ok(m("write-via-stream"), f, uint64(2))
	x.ok(fWrite, ws, []byte("xy"))
	x.ok(fBWrite, ws, []byte("z"))
	as := x.ok(m("append-via-stream"), f)
	x.ok(fBWrite, as, []byte("-end"))
	if ws.(value.Handle).Type.Name != "output-stream" {
		t.Errorf("write-via-stream returned a %v", ws.(value.Handle).Type)
	}
	rs := x.ok(m("read-via-stream"), f, uint64(1))
	var got []byte
	for {
		v := x.call(fBRead, rs, uint64(3)).(value.Variant)
		if v.Case != 0 {
			if v != closed {
				t.Errorf("read-via-stream ended with %v", v)
			}
			break
		}
		got = append(got, v.Value.([]byte)...)
	}
	if string(got) != "1xyz-end" {
		t.Errorf("read-via-stream read %q", got)
	}
	p := x.call("wasi:io/streams#[method]input-stream.subscribe", rs)
	if x.call(fReady, p) != true {
		t.Error("file stream not ready")
	}
	for _, h := range []any{p, ws, as, rs} {
		x.drop(handle(h))
	}

	// Open without create.
	r := x.ok(m("open-at"), d, follow, "hello.txt", uint64(0), rd)
	if got := x.ok(m("read"), r, uint64(5), uint64(0)).([]any)[0]; string(got.([]byte)) != "hello" {
		t.Errorf("read hello = %q", got)
	}
	x.wantFsErr(codeBadDescriptor, m("write"), r, []byte("x"), uint64(0))
	x.wantFsErr(codeBadDescriptor, m("write-via-stream"), r, uint64(0))
	x.wantFsErr(codeBadDescriptor, m("set-size"), r, uint64(0))
	wo := x.ok(m("open-at"), d, follow, "hello.txt", uint64(0), wr)
	x.wantFsErr(codeBadDescriptor, m("read"), wo, uint64(1), uint64(0))
	x.wantFsErr(codeBadDescriptor, m("read-via-stream"), wo, uint64(0))
	x.ok(m("open-at"), d, follow, "hello.txt", uint64(openTruncate), wr)
	if fi, _ := os.Stat(filepath.Join(root, "hello.txt")); fi.Size() != 0 {
		t.Errorf("truncate left %d bytes", fi.Size())
	}

	// Errors.
	x.wantFsErr(codeNoEntry, m("open-at"), d, follow, "missing", uint64(0), rd)
	x.wantFsErr(codeExist, m("open-at"), d, follow, "new.txt", uint64(openCreate|openExclusive), rw)
	x.wantFsErr(codeNotDirectory, m("open-at"), f, follow, "x", uint64(0), rd)
	x.wantFsErr(codeNotDirectory, m("open-at"), d, follow, "new.txt", uint64(openDirectory), rd)
	x.wantFsErr(codeNotDirectory, m("read-directory"), f)
	x.wantFsErr(codeNotDirectory, m("stat-at"), f, follow, "x")
	x.wantFsErr(codeIsDirectory, m("read"), d, uint64(1), uint64(0))
	x.wantFsErr(codeIsDirectory, m("read-via-stream"), d, uint64(0))
	x.wantFsErr(codeIsDirectory, m("open-at"), d, follow, ".", uint64(0), rw)
	x.wantFsErr(codeNoEntry, m("open-at"), d, follow, "", uint64(0), rd)
	x.wantFsErr(codeNotDirectory, m("open-at"), d, follow, "new.txt/x", uint64(0), rd)
}

func TestDirectories(t *testing.T) {
	x, d, root := fsFixture(t, false)
	x.ok(m("create-directory-at"), d, "sub")
	x.wantFsErr(codeExist, m("create-directory-at"), d, "sub")
	sub := x.ok(m("open-at"), d, follow, "sub", uint64(openDirectory), rd)
	if got := x.ok(m("get-flags"), sub); got != uint64(flagRead|flagMutate) {
		t.Errorf("sub flags %b", got)
	}
	f := x.ok(m("open-at"), sub, follow, "f", uint64(openCreate), wr)
	x.ok(m("write"), f, []byte("data"), uint64(0))
	x.ok(m("create-directory-at"), sub, "inner")
	x.ok(m("symlink-at"), sub, "f", "lnk")

	// read-directory lists names and types, without . and ..
	list := func(dir any) []string {
		s := x.ok(m("read-directory"), dir)
		defer x.drop(handle(s))
		var names []string
		for {
			e := x.ok(fReadDirEntry, s).(value.Variant)
			if e.Case == 0 {
				break
			}
			ent := e.Value.([]any)
			names = append(names, fmt.Sprintf("%s:%d", ent[1], ent[0].(value.Variant).Case))
		}
		slices.Sort(names)
		return names
	}
	if got := fmt.Sprint(list(sub)); got != fmt.Sprintf("[f:%d inner:%d lnk:%d]", typeRegular, typeDirectory, typeSymlink) {
		t.Errorf("sub lists %s", got)
	}
	if got := len(list(d)); got != 5 { // hello.txt escape abs link sub
		t.Errorf("root lists %d entries", got)
	}

	// stat-at, with and without following links.
	st := x.ok(m("stat-at"), sub, noFollow, "lnk").([]any)
	if st[0] != (value.Variant{Case: typeSymlink}) {
		t.Errorf("lstat of a link: %v", st[0])
	}
	st = x.ok(m("stat-at"), sub, follow, "lnk").([]any)
	if st[0] != (value.Variant{Case: typeRegular}) || st[2] != uint64(4) {
		t.Errorf("stat through a link: %v", st)
	}
	if got := x.ok(m("readlink-at"), sub, "lnk"); got != "f" {
		t.Errorf("readlink-at = %v", got)
	}
	x.wantFsErr(codeInvalid, m("readlink-at"), sub, "f")
	x.wantFsErr(codeLoop, m("open-at"), sub, noFollow, "lnk", uint64(0), rd)
	x.ok(m("open-at"), sub, follow, "lnk", uint64(0), rd)

	// ".." below the descriptor's directory is fine; above it is not, even
	// inside the preopen (the descriptor is the base of its paths).
	x.ok(m("open-at"), d, follow, "sub/../sub/./f", uint64(0), rd)
	x.ok(m("stat-at"), sub, follow, "inner/../f")
	x.wantFsErr(codeNotPermitted, m("stat-at"), sub, follow, "../hello.txt")

	// is-same-object and metadata-hash.
	same := x.ok(m("open-at"), d, follow, "sub/f", uint64(0), rd)
	if x.call(m("is-same-object"), f, same) != true || x.call(m("is-same-object"), f, sub) != false {
		t.Error("is-same-object")
	}
	h1 := x.ok(m("metadata-hash"), f)
	if h2 := x.ok(m("metadata-hash-at"), sub, follow, "f"); fmt.Sprint(h1) != fmt.Sprint(h2) {
		t.Errorf("metadata-hash %v != metadata-hash-at %v", h1, h2)
	}
	if h3 := x.ok(m("metadata-hash-at"), d, follow, "hello.txt"); fmt.Sprint(h1) == fmt.Sprint(h3) {
		t.Error("two files hash the same")
	}
	x.ok(m("write"), f, []byte("more data"), uint64(4))
	if h4 := x.ok(m("metadata-hash"), f); fmt.Sprint(h1) == fmt.Sprint(h4) {
		t.Error("hash unchanged by a write")
	}

	// Times.
	ts := value.Variant{Case: 2, Value: []any{uint64(1_000_000_000), uint32(5000)}}
	x.ok(m("set-times-at"), sub, follow, "f", value.Variant{Case: 0}, ts)
	st = x.ok(m("stat"), f).([]any)
	if got := st[4].(value.Variant).Value.([]any); got[0] != uint64(1_000_000_000) {
		t.Errorf("mtime after set-times-at = %v", got)
	}
	x.ok(m("set-times"), f, value.Variant{Case: 1}, value.Variant{Case: 1})
	st = x.ok(m("stat"), f).([]any)
	if mt := st[4].(value.Variant).Value.([]any)[0].(uint64); time.Since(time.Unix(int64(mt), 0)) > time.Minute {
		t.Errorf("mtime after set-times(now) = %d", mt)
	}
	x.ok(m("set-times"), d, value.Variant{Case: 0}, ts)
	x.wantFsErr(codeUnsupported, m("set-times-at"), sub, noFollow, "lnk", value.Variant{Case: 1}, value.Variant{Case: 1})

	// Links and renames, within one directory and between two.
	x.ok(m("link-at"), sub, noFollow, "f", sub, "hard")
	if st := x.ok(m("stat-at"), sub, noFollow, "hard").([]any); st[1] != uint64(2) {
		t.Errorf("link count %v after link-at", st[1])
	}
	x.ok(m("rename-at"), sub, "hard", sub, "hard2")
	x.ok(m("rename-at"), d, "hello.txt", sub, "moved.txt")
	x.ok(m("link-at"), sub, noFollow, "moved.txt", d, "back.txt")
	if _, err := os.Stat(filepath.Join(root, "sub", "moved.txt")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(root, "back.txt")); err != nil {
		t.Error(err)
	}
	x.wantFsErr(codeNoEntry, m("rename-at"), d, "nothing", d, "x")

	// Removal.
	x.wantFsErr(codeNotEmpty, m("remove-directory-at"), d, "sub")
	x.wantFsErr(codeIsDirectory, m("unlink-file-at"), sub, "inner")
	x.wantFsErr(codeNotDirectory, m("remove-directory-at"), sub, "f")
	x.wantFsErr(codeNoEntry, m("unlink-file-at"), sub, "nothing")
	for _, n := range []string{"f", "lnk", "hard2", "moved.txt"} {
		x.ok(m("unlink-file-at"), sub, n)
	}
	x.ok(m("remove-directory-at"), sub, "inner")
	x.ok(m("remove-directory-at"), d, "sub")
	if _, err := os.Stat(filepath.Join(root, "sub")); !os.IsNotExist(err) {
		t.Errorf("sub still there: %v", err)
	}
	// A removed directory's descriptor fails softly.
	x.wantFsErr(codeNoEntry, m("create-directory-at"), sub, "x")
}

func TestEscapesAreRefused(t *testing.T) {
	x, d, _ := fsFixture(t, false)
	sub := x.ok(m("open-at"), d, follow, ".", uint64(openDirectory), rd)
	for _, p := range []string{
		"../outside/secret", "/etc/passwd", "/", "..", "a/../../outside",
		"escape/secret", // a relative link that leads out
		"abs",           // an absolute link
	} {
		x.wantFsErr(codeNotPermitted, m("open-at"), d, follow, p, uint64(0), rd)
		x.wantFsErr(codeNotPermitted, m("open-at"), sub, follow, p, uint64(openCreate), rw)
		x.wantFsErr(codeNotPermitted, m("stat-at"), d, follow, p)
		x.wantFsErr(codeNotPermitted, m("metadata-hash-at"), d, follow, p)
	}
	for _, p := range []string{"../outside/x", "/tmp/x", "escape/x"} {
		x.wantFsErr(codeNotPermitted, m("create-directory-at"), d, p)
		x.wantFsErr(codeNotPermitted, m("unlink-file-at"), d, p)
		x.wantFsErr(codeNotPermitted, m("rename-at"), d, "link", d, p)
		x.wantFsErr(codeNotPermitted, m("link-at"), d, noFollow, "link", d, p)
		x.wantFsErr(codeNotPermitted, m("symlink-at"), d, "hello.txt", p)
	}
	x.wantFsErr(codeNotPermitted, m("rename-at"), d, "../outside/secret", d, "stolen")
	x.wantFsErr(codeNotPermitted, m("remove-directory-at"), d, "escape/..")
	x.wantFsErr(codeNotPermitted, m("readlink-at"), d, "../x")
	// Links may not point out either.
	x.wantFsErr(codeNotPermitted, m("symlink-at"), d, "../outside", "l1")
	x.wantFsErr(codeNotPermitted, m("symlink-at"), d, "/etc", "l2")
	x.wantFsErr(codeNotPermitted, m("symlink-at"), d, "a/../../x", "l3")
	x.ok(m("symlink-at"), d, "a/../hello.txt", "l4")
	// The links that exist can be inspected but not followed.
	x.ok(m("stat-at"), d, noFollow, "escape")
	if got := x.ok(m("readlink-at"), d, "escape"); got != "../outside" {
		t.Errorf("readlink-at = %v", got)
	}
}

func TestReadOnlyPreopen(t *testing.T) {
	x, d, root := fsFixture(t, true)
	if got := x.ok(m("get-flags"), d); got != rd {
		t.Errorf("read-only preopen flags %b", got)
	}
	must(t, os.Mkdir(filepath.Join(root, "dir"), 0o755))
	f := x.ok(m("open-at"), d, follow, "hello.txt", uint64(0), rd)
	if got := x.ok(m("read"), f, uint64(5), uint64(0)).([]any)[0]; string(got.([]byte)) != "hello" {
		t.Errorf("read = %q", got)
	}
	dir := x.ok(m("open-at"), d, follow, "dir", uint64(openDirectory), rd|uint64(flagMutate))
	if got := x.ok(m("get-flags"), dir); got != rd {
		t.Errorf("directory flags %b under a read-only preopen", got)
	}
	ts := value.Variant{Case: 1}
	x.wantFsErr(codeReadOnly, m("open-at"), d, follow, "hello.txt", uint64(0), rw)
	x.wantFsErr(codeReadOnly, m("open-at"), d, follow, "new", uint64(openCreate), rd)
	x.wantFsErr(codeReadOnly, m("open-at"), d, follow, "hello.txt", uint64(openTruncate), rd)
	x.wantFsErr(codeReadOnly, m("create-directory-at"), d, "new")
	x.wantFsErr(codeReadOnly, m("create-directory-at"), dir, "new")
	x.wantFsErr(codeReadOnly, m("unlink-file-at"), d, "hello.txt")
	x.wantFsErr(codeReadOnly, m("remove-directory-at"), d, "dir")
	x.wantFsErr(codeReadOnly, m("rename-at"), d, "hello.txt", d, "x")
	x.wantFsErr(codeReadOnly, m("link-at"), d, noFollow, "hello.txt", d, "x")
	x.wantFsErr(codeReadOnly, m("symlink-at"), d, "hello.txt", "x")
	x.wantFsErr(codeReadOnly, m("set-times-at"), d, follow, "hello.txt", ts, ts)
	x.wantFsErr(codeReadOnly, m("set-times"), f, ts, ts)
	x.wantFsErr(codeReadOnly, m("set-size"), f, uint64(0))
	x.wantFsErr(codeReadOnly, m("write"), f, []byte("x"), uint64(0))
	x.wantFsErr(codeReadOnly, m("write-via-stream"), f, uint64(0))
	x.wantFsErr(codeReadOnly, m("append-via-stream"), f)
	if data, _ := os.ReadFile(filepath.Join(root, "hello.txt")); string(data) != "hello, world" {
		t.Errorf("file changed: %q", data)
	}
}

func TestSetTimesFollowsTheOpenFile(t *testing.T) {
	x, d, root := fsFixture(t, false)
	f := x.ok(m("open-at"), d, follow, "hello.txt", uint64(0), rd)
	x.ok(m("rename-at"), d, "hello.txt", d, "renamed.txt")
	ts := value.Variant{Case: 2, Value: []any{uint64(2_000_000_000), uint32(0)}}
	res := x.call(m("set-times"), f, value.Variant{Case: 0}, ts).(value.Variant)
	if runtime.GOOS != "linux" {
		t.Skip("set-times goes by path outside Linux")
	}
	if res.Case != 0 {
		t.Fatalf("set-times of a renamed file: %v", x.describeErr(res.Value))
	}
	fi, err := os.Stat(filepath.Join(root, "renamed.txt"))
	must(t, err)
	if fi.ModTime().Unix() != 2_000_000_000 {
		t.Errorf("mtime %v", fi.ModTime())
	}
}

func TestCrossPreopen(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(a, "f"), []byte("x"), 0o644))
	x := newTester(t, Config{Preopens: []Preopen{{HostDir: a, GuestPath: "/a"}, {HostDir: b}}})
	dirs := x.call(fGetDirs).([]any)
	if len(dirs) != 2 || dirs[1].([]any)[1] != "/" {
		t.Fatalf("get-directories = %v", dirs)
	}
	da, db := dirs[0].([]any)[0], dirs[1].([]any)[0]
	x.wantFsErr(codeCrossDevice, m("rename-at"), da, "f", db, "f")
	x.wantFsErr(codeCrossDevice, m("link-at"), da, noFollow, "f", db, "f")
	if x.call(m("is-same-object"), da, db) != false {
		t.Error("two preopens are the same object")
	}
}

func TestStreamErrorCode(t *testing.T) {
	x := newTester(t, Config{})
	for _, c := range []struct {
		err  error
		fs   bool
		want any
	}{
		{&fileStreamErr{syscall.ENOSPC}, true, value.Some(value.Variant{Case: uint32(codeInsufficientSpace)})},
		{&fileStreamErr{os.ErrNotExist}, true, value.Some(value.Variant{Case: uint32(codeNoEntry)})},
		{syscall.ENOSPC, false, value.None()},
	} {
		e, err := insert(x.h, &x.h.errs, x.h.rts["error"], &ioError{err: c.err, fs: c.fs})
		must(t, err)
		if got := x.call(fErrorCode, e); got != c.want {
			t.Errorf("filesystem-error-code(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want errorCode
	}{
		{syscall.ENOENT, codeNoEntry},
		{syscall.EACCES, codeAccess},
		{syscall.EPERM, codeNotPermitted},
		{syscall.EEXIST, codeExist},
		{syscall.ENOTDIR, codeNotDirectory},
		{syscall.EISDIR, codeIsDirectory},
		{syscall.ENOTEMPTY, codeNotEmpty},
		{syscall.EBADF, codeBadDescriptor},
		{syscall.ELOOP, codeLoop},
		{syscall.EXDEV, codeCrossDevice},
		{syscall.EROFS, codeReadOnly},
		{&os.PathError{Op: "open", Path: "x", Err: syscall.ENAMETOOLONG}, codeNameTooLong},
		{os.ErrClosed, codeBadDescriptor},
		{os.ErrNotExist, codeNoEntry},
		{os.ErrPermission, codeAccess},
		{fmt.Errorf("openat x: %w", fmt.Errorf("path escapes from parent")), codeNotPermitted},
		{fail(codeReadOnly, "op"), codeReadOnly},
		{fmt.Errorf("something odd"), codeIO},
	} {
		if got := codeOf(c.err); got != c.want {
			t.Errorf("codeOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if len(errorCodeLabels) != int(codeCrossDevice)+1 {
		t.Errorf("%d labels for %d codes", len(errorCodeLabels), codeCrossDevice+1)
	}
}

func TestDropAndCloseCloseFiles(t *testing.T) {
	x, d, _ := fsFixture(t, false)
	f := x.ok(m("open-at"), d, follow, "hello.txt", uint64(0), rd)
	s := x.ok(m("read-directory"), d)
	if n := x.h.openFiles(); n != 3 {
		t.Fatalf("%d open, want 3", n)
	}
	x.drop(handle(f))
	x.drop(handle(s))
	x.drop(d)
	if n := x.h.openFiles(); n != 0 {
		t.Errorf("%d open after drops", n)
	}
	// Each get-directories hands out new descriptors; Close closes them.
	x.call(fGetDirs)
	g := x.ok(m("open-at"), d2(x), follow, "hello.txt", uint64(0), rd)
	_ = g
	must(t, x.h.Close())
	if n := x.h.openFiles(); n != 0 {
		t.Errorf("%d open after Close", n)
	}
}

func d2(x *tester) any { return x.call(fGetDirs).([]any)[0].([]any)[0] }

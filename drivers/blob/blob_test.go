package blob

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/kernel"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newDriver(t *testing.T, settings map[string]any, dataDir string) *Driver {
	t.Helper()
	n, err := New(kernel.DriverSpec{Name: "files", Kind: Kind, Settings: settings}, kernel.DriverEnv{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	return n.(*Driver)
}

func kindOf(err error) ErrKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 99
}

func TestReadWriteListDelete(t *testing.T) {
	data := t.TempDir()
	d := newDriver(t, nil, data)
	if got := d.Dir(); got != filepath.Join(data, "blobs") {
		t.Fatalf("dir = %s", got)
	}
	if err := d.Write("a", "css/site.css", []byte("body{}")); err != nil {
		t.Fatal(err)
	}
	if err := d.Write("a", "index.html", []byte("<h1>hi</h1>")); err != nil {
		t.Fatal(err)
	}
	m, ok, err := d.Stat("a", "index.html")
	if err != nil || !ok || m.Size != 11 || m.IsDir || m.ETag == "" || m.ModifiedNs == 0 {
		t.Fatalf("stat = %+v %v %v", m, ok, err)
	}
	if m, ok, _ := d.Stat("a", "css"); !ok || !m.IsDir {
		t.Fatalf("stat dir = %+v %v", m, ok)
	}
	if _, ok, err := d.Stat("a", "nope.html"); ok || err != nil {
		t.Fatalf("stat missing = %v %v", ok, err)
	}
	if _, ok, err := d.Stat("a", "index.html/x"); ok || err != nil {
		t.Fatalf("stat under a file = %v %v", ok, err)
	}
	got, err := d.Read("a", "index.html", 4, 100, "")
	if err != nil || string(got) != "hi</h1>" {
		t.Fatalf("read = %q %v", got, err)
	}
	if got, err := d.Read("a", "index.html", 11, 100, ""); err != nil || len(got) != 0 {
		t.Fatalf("read at EOF = %q %v", got, err)
	}
	if _, err := d.Read("a", "nope", 0, 1, ""); kindOf(err) != ErrNotFound {
		t.Fatalf("read missing: %v", err)
	}
	if _, err := d.Read("a", "css", 0, 1, ""); kindOf(err) != ErrWrongKind {
		t.Fatalf("read dir: %v", err)
	}
	names, err := d.List("a", "")
	if err != nil || !slices.Equal(names, []string{"css/", "index.html"}) {
		t.Fatalf("list = %q %v", names, err)
	}
	if _, err := d.List("a", "index.html"); kindOf(err) != ErrWrongKind {
		t.Fatalf("list file: %v", err)
	}
	// Namespaces: box b sees nothing of a's.
	if names, err := d.List("b", ""); err != nil || len(names) != 0 {
		t.Fatalf("b lists %q %v", names, err)
	}
	if _, ok, _ := d.Stat("b", "index.html"); ok {
		t.Fatal("box b sees box a's file")
	}
	if err := d.Write("a", "css", []byte("x")); kindOf(err) != ErrWrongKind {
		t.Fatalf("write over a directory: %v", err)
	}
	if ok, err := d.Delete("a", "index.html"); !ok || err != nil {
		t.Fatalf("delete = %v %v", ok, err)
	}
	if ok, err := d.Delete("a", "index.html"); ok || err != nil {
		t.Fatalf("delete again = %v %v", ok, err)
	}
	if _, err := d.Delete("a", "css"); kindOf(err) != ErrWrongKind {
		t.Fatalf("delete dir: %v", err)
	}
	// Reads are capped.
	big := bytes.Repeat([]byte("x"), MaxRead+10)
	if err := d.Write("a", "big", big); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Read("a", "big", 0, 1<<31, ""); len(got) != MaxRead {
		t.Fatalf("read %d bytes, want the cap %d", len(got), MaxRead)
	}
	if got, _ := d.Read("a", "big", MaxRead, 1<<31, ""); len(got) != 10 {
		t.Fatalf("tail read %d bytes", len(got))
	}
	// The files are where the namespace says.
	if _, err := os.Stat(filepath.Join(data, "blobs", "a", "css", "site.css")); err != nil {
		t.Fatal(err)
	}
}

// TestConfinement: no path leads out of the directory, lexically or
// through symbolic links; links inside it work.
func TestConfinement(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("ok"), 0o644)
	must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "abs-link")))
	must(t, os.Symlink("../"+filepath.Base(outside)+"/secret", filepath.Join(dir, "rel-link")))
	must(t, os.Symlink(outside, filepath.Join(dir, "dir-link")))
	must(t, os.Symlink("ok.txt", filepath.Join(dir, "inside-link")))
	d := newDriver(t, map[string]any{"dir": dir, "shared": true}, "")

	for _, p := range []string{"../secret", "/etc/passwd", "a//b", "./ok.txt", "a/./b", "x/../ok.txt", "..", "a\\..\\b", "ok.txt\x00", ".wbox-tmp-123", "sub/.wbox-tmp-x"} {
		if _, err := d.Read("", p, 0, 10, ""); kindOf(err) != ErrInvalidPath {
			t.Errorf("read %q: %v, want invalid path", p, err)
		}
		if _, _, err := d.Stat("", p); kindOf(err) != ErrInvalidPath {
			t.Errorf("stat %q: %v, want invalid path", p, err)
		}
		if err := d.Write("", p, []byte("x")); kindOf(err) != ErrInvalidPath {
			t.Errorf("write %q: %v, want invalid path", p, err)
		}
	}
	for _, p := range []string{"abs-link", "rel-link", "dir-link/secret"} {
		got, err := d.Read("", p, 0, 10, "")
		if kindOf(err) != ErrInvalidPath || got != nil {
			t.Errorf("read %q = %q, %v; want invalid path", p, got, err)
		} else if !strings.Contains(err.Error(), "out of the store") {
			t.Errorf("read %q: unclear error %v", p, err)
		}
		if _, _, err := d.Stat("", p); kindOf(err) != ErrInvalidPath {
			t.Errorf("stat %q: %v", p, err)
		}
	}
	if err := d.Write("", "dir-link/planted", []byte("x")); kindOf(err) != ErrInvalidPath {
		t.Errorf("write through a link out: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Fatal("a write landed outside the directory")
	}
	if _, err := d.List("", "dir-link"); kindOf(err) != ErrInvalidPath {
		t.Errorf("list through a link out: %v", err)
	}
	if got, err := d.Read("", "inside-link", 0, 10, ""); err != nil || string(got) != "ok" {
		t.Fatalf("link inside: %q %v", got, err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644)
	d := newDriver(t, map[string]any{"dir": dir, "readonly": true, "shared": true}, "")
	if err := d.Write("", "b.txt", []byte("b")); kindOf(err) != ErrReadOnly {
		t.Fatalf("write: %v", err)
	}
	if _, err := d.Delete("", "a.txt"); kindOf(err) != ErrReadOnly {
		t.Fatalf("delete: %v", err)
	}
	if got, err := d.Read("", "a.txt", 0, 5, ""); err != nil || string(got) != "a" {
		t.Fatalf("read = %q %v", got, err)
	}
	// A read-only driver never creates its directory: a missing one fails Run.
	missing := newDriver(t, map[string]any{"dir": filepath.Join(dir, "nope"), "readonly": true}, "")
	if err := missing.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("run on a missing dir: %v", err)
	}
}

// TestAtomicWrite: readers racing a writer that keeps replacing a file see
// one whole version or the other, never a mix or a short file; a crashed
// write's temporary file is neither listed nor readable.
func TestAtomicWrite(t *testing.T) {
	d := newDriver(t, nil, t.TempDir())
	const size = 256 << 10
	v1, v2 := bytes.Repeat([]byte{'1'}, size), bytes.Repeat([]byte{'2'}, size)
	must(t, d.Write("a", "f", v1))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := d.Read("a", "f", 0, size+1, "")
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, v1) && !bytes.Equal(got, v2) {
					errs <- errors.New("a reader saw a partial or mixed file")
					return
				}
			}
		})
	}
	for i := range 200 {
		v := v1
		if i%2 == 0 {
			v = v2
		}
		if err := d.Write("a", "f", v); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A temporary file left by a crash between create and rename.
	tmp := filepath.Join(d.Dir(), "a", tmpPrefix+"deadbeef")
	must(t, os.WriteFile(tmp, []byte("half"), 0o644))
	if names, _ := d.List("a", ""); !slices.Equal(names, []string{"f"}) {
		t.Fatalf("list = %q", names)
	}
	ents, _ := os.ReadDir(filepath.Join(d.Dir(), "a"))
	if len(ents) != 2 {
		t.Fatalf("the writes left files behind: %v", ents)
	}
}

// TestRestartKeepsData: a new driver on the same data directory (a node
// restart) serves what the old one wrote, with the same ETag.
func TestRestartKeepsData(t *testing.T) {
	data := t.TempDir()
	d := newDriver(t, nil, data)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	must(t, d.Write("a", "x/y.txt", []byte("kept")))
	m1, _, _ := d.Stat("a", "x/y.txt")
	cancel()
	must(t, <-done)

	d2 := newDriver(t, nil, data)
	got, err := d2.Read("a", "x/y.txt", 0, 100, "")
	if err != nil || string(got) != "kept" {
		t.Fatalf("after restart: %q %v", got, err)
	}
	if m2, _, _ := d2.Stat("a", "x/y.txt"); m2 != m1 {
		t.Fatalf("meta changed across a restart: %+v vs %+v", m1, m2)
	}
	if err := d2.Write("a", "x/y.txt", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if m3, _, _ := d2.Stat("a", "x/y.txt"); m3.ETag == m1.ETag {
		t.Fatal("the ETag did not change with the content")
	} else if got, err := d2.Read("a", "x/y.txt", 1, 3, m3.ETag); err != nil || string(got) != "han" {
		t.Fatalf("read if-etag current = %q %v", got, err)
	}
	if _, err := d2.Read("a", "x/y.txt", 0, 100, m1.ETag); kindOf(err) != ErrChanged {
		t.Fatalf("read if-etag of the replaced version: %v, want changed", err)
	}
}

func TestSettings(t *testing.T) {
	for want, settings := range map[string]map[string]any{
		`unknown setting "dri"`:      {"dri": "x"},
		"dir must be a directory":    {"dir": 3},
		"readonly must be true":      {"readonly": "yes"},
		"shared must be true":        {"shared": 1},
		"dir must be a directory pa": {"dir": ""},
	} {
		if _, err := New(kernel.DriverSpec{Name: "files", Kind: Kind, Settings: settings}, kernel.DriverEnv{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err = %v", settings, err)
		}
	}
	d := newDriver(t, nil, "")
	if _, err := d.Read("a", "x", 0, 1, ""); err == nil || !strings.Contains(err.Error(), "no directory") {
		t.Fatalf("a described-only driver read: %v", err)
	}
	it := d.Exports()[Interface]
	for _, f := range []string{"stat", "read", "list", "write", "delete"} {
		if it == nil || it.Func(f) == nil {
			t.Fatalf("no %s in %+v", f, it)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWITCopies keeps the copies of wit/wbox-blob.wit that box projects
// carry in step with it.
func TestWITCopies(t *testing.T) {
	want, err := os.ReadFile("../../wit/wbox-blob.wit")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../../components/static-site/wit/deps/wbox-blob/wbox-blob.wit"} {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from wit/wbox-blob.wit: copy it", p)
		}
	}
}

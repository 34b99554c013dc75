package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/drivers/blob"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

// node is a real kernel running the static-site box with an arrow to a
// blob driver, behind a real HTTP server on 127.0.0.1.
type node struct {
	k   *kernel.Kernel
	d   *blob.Driver // the driver the kernel created
	srv *httptest.Server
}

func startNode(t *testing.T, dataDir string, wasm []byte, settings map[string]any, more ...kernel.BoxSpec) *node {
	t.Helper()
	n := &node{}
	var mu sync.Mutex
	factory := func(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
		nat, err := blob.New(spec, env)
		if err == nil {
			mu.Lock()
			n.d = nat.(*blob.Driver)
			mu.Unlock()
		}
		return nat, err
	}
	cache, _ := os.UserCacheDir()
	k, err := kernel.New(kernel.Config{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		DataDir: dataDir, CacheDir: filepath.Join(cache, "wbox", "test-compiled"),
		Drivers: map[string]kernel.DriverFactory{blob.Kind: factory},
	})
	if err != nil {
		t.Fatal(err)
	}
	n.k = k
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = k.Apply(ctx, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "files", Kind: blob.Kind, Settings: settings}},
		Start: append([]kernel.BoxSpec{{
			Name: "site", Wasm: wasm, Instances: 1,
			Arrows: []kernel.Arrow{{Import: blob.Interface, Target: "files", Export: blob.Interface}},
		}}, more...),
	})
	if err != nil {
		k.Close(context.Background())
		t.Fatal(err)
	}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := k.ServeHTTP(r.Context(), "site", w, r); err != nil {
			t.Logf("ServeHTTP: %v", err)
		}
	}))
	return n
}

func (n *node) close(t *testing.T) {
	n.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.k.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (n *node) get(t *testing.T, p string, hdr ...string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.srv.URL+p, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := n.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", p, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", p, err)
	}
	return resp.StatusCode, b, resp.Header
}

// TestThroughKernel: a box reads the driver through an arrow (stat, read in
// 64 KiB pieces, the meta record and error variant crossing the canonical
// ABI), in its own namespace; links out of the directory are refused;
// atomic replacements are seen whole; a restarted node serves what was
// written before.
func TestThroughKernel(t *testing.T) {
	wasm, err := os.ReadFile(testcomponents.Path(t, "static-site"))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	n := startNode(t, data, wasm, nil)
	big := make([]byte, 1<<20+5)
	for i := range big {
		big[i] = byte(i * 7)
	}
	must(t, n.d.Write("site", "index.html", []byte("<h1>home</h1>")))
	must(t, n.d.Write("site", "files/big.bin", big))
	must(t, n.d.Write("other", "index.html", []byte("not yours")))

	if code, b, h := n.get(t, "/"); code != 200 || string(b) != "<h1>home</h1>" || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %q %v", code, b, h)
	}
	code, b, h := n.get(t, "/files/big.bin")
	if code != 200 || !bytes.Equal(b, big) {
		t.Fatalf("GET big = %d, %d bytes (equal: %v)", code, len(b), bytes.Equal(b, big))
	}
	if code, _, _ := n.get(t, "/files/big.bin", "If-None-Match", h.Get("ETag")); code != 304 {
		t.Fatalf("conditional GET = %d", code)
	}
	if code, b, _ := n.get(t, "/files/big.bin", "Range", "bytes=1048570-"); code != 206 || !bytes.Equal(b, big[1048570:]) {
		t.Fatalf("range = %d %d bytes", code, len(b))
	}

	// A link out of the directory is refused by the driver: 404.
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644)
	must(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(n.d.Dir(), "site", "leak.txt")))
	if code, b, _ := n.get(t, "/leak.txt"); code != 404 || bytes.Contains(b, []byte("secret")) {
		t.Fatalf("GET through a link out = %d %q", code, b)
	}

	// Replacements while the box serves files of several 64 KiB reads:
	// every complete answer is one whole version (the box reads with
	// if-etag); an answer cut short by a replacement is an error for the
	// client, never a mix.
	v1, v2 := bytes.Repeat([]byte("1"), 200<<10), bytes.Repeat([]byte("2"), 200<<10)
	must(t, n.d.Write("site", "page.txt", v1))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			v := v1
			if i%2 == 0 {
				v = v2
			}
			if err := n.d.Write("site", "page.txt", v); err != nil {
				t.Error(err)
				return
			}
		}
	})
	whole, cut := 0, 0
	for range 50 {
		resp, err := n.srv.Client().Get(n.srv.URL + "/page.txt")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			cut++
		case resp.StatusCode != 200 || (!bytes.Equal(b, v1) && !bytes.Equal(b, v2)):
			t.Fatalf("GET during rewrites = %d, %d bytes, not one whole version", resp.StatusCode, len(b))
		default:
			whole++
		}
	}
	t.Logf("during rewrites: %d whole answers, %d cut short", whole, cut)
	if whole == 0 {
		t.Fatal("no answer was whole")
	}
	close(done)
	wg.Wait()
	n.close(t)

	// The node restarts on the same data directory.
	n = startNode(t, data, wasm, nil)
	defer n.close(t)
	if code, b, _ := n.get(t, "/files/big.bin"); code != 200 || !bytes.Equal(b, big) {
		t.Fatalf("after restart: %d, %d bytes", code, len(b))
	}
	if code, b, _ := n.get(t, "/"); code != 200 || string(b) != "<h1>home</h1>" {
		t.Fatalf("after restart GET / = %d %q", code, b)
	}
}

// TestSharedReadOnlyThroughKernel: a shared read-only driver serves a
// directory the user keeps, at the root of the box's namespace.
func TestSharedReadOnlyThroughKernel(t *testing.T) {
	wasm, err := os.ReadFile(testcomponents.Path(t, "static-site"))
	if err != nil {
		t.Fatal(err)
	}
	site := t.TempDir()
	os.WriteFile(filepath.Join(site, "index.html"), []byte("mine"), 0o644)
	n := startNode(t, t.TempDir(), wasm, map[string]any{"dir": site, "readonly": true, "shared": true})
	defer n.close(t)
	if code, b, _ := n.get(t, "/"); code != 200 || string(b) != "mine" {
		t.Fatalf("GET / = %d %q", code, b)
	}
	if err := n.d.Write("", "x", []byte("x")); err == nil {
		t.Fatal("a read-only driver wrote")
	}
	if code, _, _ := n.get(t, fmt.Sprintf("/%s", "nope")); code != 404 {
		t.Fatalf("missing = %d", code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const probe = "wbox:blob-probe/probe@0.1.0#"

// TestWritesThroughKernel: a box writes and deletes through its arrow
// (blob-probe: write and delete lowered and lifted by the canonical ABI,
// the error variant's cases coming back as codes), another box serves what
// it wrote (a shared driver), and a restarted node still has it.
func TestWritesThroughKernel(t *testing.T) {
	wasm, err := os.ReadFile(testcomponents.Path(t, "static-site"))
	if err != nil {
		t.Fatal(err)
	}
	probeWasm, err := os.ReadFile(testcomponents.Path(t, "blob-probe"))
	if err != nil {
		t.Fatal(err)
	}
	writer := kernel.BoxSpec{
		Name: "writer", Wasm: probeWasm, Instances: 1,
		Arrows: []kernel.Arrow{{Import: blob.Interface, Target: "files", Export: blob.Interface}},
	}
	data := t.TempDir()
	shared := map[string]any{"shared": true}
	n := startNode(t, data, wasm, shared, writer)
	call := func(fn string, args ...any) uint32 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := n.k.Call(ctx, "writer", probe+fn, args...)
		if err != nil {
			t.Fatalf("%s%v: %v", fn, args, err)
		}
		return res[0].(uint32)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<17) // 2 MiB
	for _, c := range []struct {
		fn   string
		args []any
		want uint32
	}{
		{"put", []any{"index.html", []byte("v1")}, 0},
		{"put", []any{"files/big.bin", big}, 0},
		{"put", []any{"../escape", []byte("x")}, 1 + uint32(blob.ErrInvalidPath)},
		{"put", []any{"/abs", []byte("x")}, 1 + uint32(blob.ErrInvalidPath)},
		{"put", []any{"files", []byte("x")}, 1 + uint32(blob.ErrWrongKind)},
		{"put", []any{"gone.txt", []byte("x")}, 0},
		{"del", []any{"gone.txt"}, 1},
		{"del", []any{"gone.txt"}, 0},
		{"del", []any{"files"}, 10 + uint32(blob.ErrWrongKind)},
		{"del", []any{"a//b"}, 10 + uint32(blob.ErrInvalidPath)},
	} {
		if got := call(c.fn, c.args...); got != c.want {
			t.Errorf("%s(%v) = %d, want %d", c.fn, c.args[0], got, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(n.d.Dir()), "escape")); err == nil {
		t.Fatal("a write escaped the directory")
	}
	if code, b, _ := n.get(t, "/"); code != 200 || string(b) != "v1" {
		t.Fatalf("GET / after the box wrote it = %d %q", code, b)
	}
	if code, b, _ := n.get(t, "/files/big.bin"); code != 200 || !bytes.Equal(b, big) {
		t.Fatalf("GET big = %d, %d bytes", code, len(b))
	}
	if code, _, _ := n.get(t, "/gone.txt"); code != 404 {
		t.Fatalf("GET a deleted file = %d", code)
	}
	n.close(t)

	n = startNode(t, data, wasm, shared, writer)
	if code, b, _ := n.get(t, "/files/big.bin"); code != 200 || !bytes.Equal(b, big) {
		t.Fatalf("after restart: %d, %d bytes", code, len(b))
	}
	if got := call("put", "index.html", []byte("v2")); got != 0 {
		t.Fatalf("put after restart = %d", got)
	}
	if code, b, _ := n.get(t, "/"); code != 200 || string(b) != "v2" {
		t.Fatalf("GET / = %d %q", code, b)
	}
	n.close(t)

	// The same directory, read-only: the box's writes fail with read-only.
	n = startNode(t, data, wasm, map[string]any{"shared": true, "readonly": true}, writer)
	defer n.close(t)
	if got := call("put", "index.html", []byte("v3")); got != 1+uint32(blob.ErrReadOnly) {
		t.Fatalf("put on a read-only driver = %d", got)
	}
	if got := call("del", "index.html"); got != 10+uint32(blob.ErrReadOnly) {
		t.Fatalf("del on a read-only driver = %d", got)
	}
	if code, b, _ := n.get(t, "/"); code != 200 || string(b) != "v2" {
		t.Fatalf("GET / = %d %q", code, b)
	}
}

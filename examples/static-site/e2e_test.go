// Package staticsite tests the static-site example end to end: the real
// wbox binary runs examples/static-site/topology.yaml (the http ingress,
// the static-site box and a blob driver) and a real HTTP client asks it
// for files.
package staticsite

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// TestMain checks that no goroutine outlives the tests (idle client
// connections are closed first).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a 127.0.0.1 address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// up builds wbox, starts `wbox up topo` and waits until addr answers; the
// node is stopped (SIGINT) when the test ends.
func up(t *testing.T, topo, addr string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wbox")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/wbox").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "up", "--data", t.TempDir(), topo)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("wbox up did not stop on SIGINT\nstderr:\n%s", stderr)
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if strings.Contains(stdout.String(), "wbox is up") {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return
			}
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("wbox up did not come up on %s\nstdout:\n%s\nstderr:\n%s", addr, stdout, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// example writes the example's topology with absolute paths, a copy of its
// site (plus a 1 MiB file and a link out of the site) and a free address.
func example(t *testing.T) (topo, addr string, big []byte) {
	t.Helper()
	root := testcomponents.RepoRoot(t)
	comp := testcomponents.Path(t, "static-site")
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	if err := os.CopyFS(site, os.DirFS("site")); err != nil {
		t.Fatal(err)
	}
	big = make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i % 251)
	}
	os.WriteFile(filepath.Join(site, "big.bin"), big, 0o644)
	outside := filepath.Join(dir, "secret.txt")
	os.WriteFile(outside, []byte("top secret"), 0o644)
	if err := os.Symlink(outside, filepath.Join(site, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "examples", "static-site", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr = freeAddr(t)
	s := strings.ReplaceAll(string(src), "../../build/components/static-site.wasm", comp)
	s = strings.ReplaceAll(s, "127.0.0.1:8080", addr)
	topo = filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(topo, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return topo, addr, big
}

type reply struct {
	code int
	body []byte
	h    http.Header
}

func do(t *testing.T, method, url string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return reply{resp.StatusCode, b, resp.Header}
}

// raw sends a request line as written (no client-side cleaning of the
// path) and returns the status code and body.
func raw(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStaticSite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	topo, addr, big := example(t)
	up(t, topo, addr)
	base := "http://" + addr

	r := do(t, "GET", base+"/")
	if r.code != 200 || !bytes.Contains(r.body, []byte("Served by a WebAssembly box")) {
		t.Fatalf("GET / = %d %q", r.code, r.body)
	}
	for k, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=60", "Accept-Ranges": "bytes"} {
		if got := r.h.Get(k); got != want {
			t.Errorf("GET /: %s = %q, want %q", k, got, want)
		}
	}
	etag, lastMod := r.h.Get("ETag"), r.h.Get("Last-Modified")
	if !strings.HasPrefix(etag, `"`) || lastMod == "" {
		t.Fatalf("GET /: ETag %q, Last-Modified %q", etag, lastMod)
	}

	t.Run("types", func(t *testing.T) {
		for p, want := range map[string]string{"/css/site.css": "text/css; charset=utf-8", "/docs/notes.md": "text/markdown; charset=utf-8", "/docs/readme.txt": "text/plain; charset=utf-8", "/big.bin": "application/octet-stream", "/index.html": "text/html; charset=utf-8"} {
			if r := do(t, "GET", base+p); r.code != 200 || r.h.Get("Content-Type") != want {
				t.Errorf("GET %s = %d %q, want 200 %q", p, r.code, r.h.Get("Content-Type"), want)
			}
		}
	})
	t.Run("conditional", func(t *testing.T) {
		if r := do(t, "GET", base+"/", "If-None-Match", etag); r.code != 304 || len(r.body) != 0 || r.h.Get("ETag") != etag {
			t.Errorf("If-None-Match = %d %q", r.code, r.body)
		}
		if r := do(t, "GET", base+"/", "If-None-Match", `"stale"`); r.code != 200 {
			t.Errorf("stale If-None-Match = %d", r.code)
		}
		if r := do(t, "GET", base+"/", "If-Modified-Since", lastMod); r.code != 304 {
			t.Errorf("If-Modified-Since = %d", r.code)
		}
		if r := do(t, "GET", base+"/", "If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT"); r.code != 200 {
			t.Errorf("old If-Modified-Since = %d", r.code)
		}
	})
	t.Run("ranges", func(t *testing.T) {
		r := do(t, "GET", base+"/big.bin", "Range", "bytes=1000-1999")
		if r.code != 206 || !bytes.Equal(r.body, big[1000:2000]) || r.h.Get("Content-Range") != "bytes 1000-1999/1048576" {
			t.Errorf("range = %d, %d bytes, %q", r.code, len(r.body), r.h.Get("Content-Range"))
		}
		r = do(t, "GET", base+"/big.bin", "Range", "bytes=-100")
		if r.code != 206 || !bytes.Equal(r.body, big[len(big)-100:]) {
			t.Errorf("suffix range = %d, %d bytes", r.code, len(r.body))
		}
		r = do(t, "GET", base+"/big.bin", "Range", "bytes=2000000-")
		if r.code != 416 || r.h.Get("Content-Range") != "bytes */1048576" {
			t.Errorf("unsatisfiable range = %d %q", r.code, r.h.Get("Content-Range"))
		}
		r = do(t, "GET", base+"/big.bin")
		if r.code != 200 || !bytes.Equal(r.body, big) || r.h.Get("Content-Length") != "1048576" {
			t.Errorf("1 MiB file = %d, %d bytes (Content-Length %s)", r.code, len(r.body), r.h.Get("Content-Length"))
		}
	})
	t.Run("head", func(t *testing.T) {
		r := do(t, "HEAD", base+"/big.bin")
		if r.code != 200 || len(r.body) != 0 || r.h.Get("Content-Length") != "1048576" || r.h.Get("ETag") == "" {
			t.Errorf("HEAD = %d, %d bytes, %v", r.code, len(r.body), r.h)
		}
	})
	t.Run("index and listing", func(t *testing.T) {
		if r := do(t, "GET", base+"/docs"); r.code != 301 || r.h.Get("Location") != "/docs/" {
			t.Errorf("GET /docs = %d %q", r.code, r.h.Get("Location"))
		}
		r := do(t, "GET", base+"/docs/")
		if r.code != 200 || !bytes.Contains(r.body, []byte(`<a href="notes.md">notes.md</a>`)) {
			t.Errorf("listing = %d %q", r.code, r.body)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if r := do(t, "GET", base+"/nope.html"); r.code != 404 {
			t.Errorf("missing = %d", r.code)
		}
		if r := do(t, "POST", base+"/"); r.code != 405 || r.h.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST = %d %q", r.code, r.h.Get("Allow"))
		}
	})
	t.Run("traversal", func(t *testing.T) {
		for _, target := range []string{"/../secret.txt", "/../../../../etc/passwd", "/%2e%2e/secret.txt", "/docs/..%2f..%2fsecret.txt", "/css/%2e%2e/%2e%2e/secret.txt", "/leak.txt", "/..%5csecret.txt"} {
			code, body := raw(t, addr, target)
			if code == 200 || strings.Contains(body, "top secret") || strings.Contains(body, "root:") {
				t.Errorf("GET %s = %d %q", target, code, body)
			}
		}
		// A path that climbs and comes back in stays inside the site.
		if code, body := raw(t, addr, "/docs/../css/site.css"); code != 200 || !strings.Contains(body, "font-family") {
			t.Errorf("GET /docs/../css/site.css = %d %q", code, body)
		}
	})
}

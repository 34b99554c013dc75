package httpdriver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.rt != nil {
		shared.rt.Close(context.Background())
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

var shared struct {
	once sync.Once
	rt   *wasmhost.Runtime
	c    *wasmhost.Component
	err  error
}

// hello loads components/http-hello (a JS fetch event handler) once.
func hello(t testing.TB) *wasmhost.Component {
	t.Helper()
	path := testcomponents.Path(t, "http-hello")
	shared.once.Do(func() {
		ctx := context.Background()
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		rt, err := wasmhost.NewRuntime(ctx, wasmhost.Config{CacheDir: filepath.Join(dir, "wbox", "test-compiled"), Interruptible: true})
		if err != nil {
			shared.err = err
			return
		}
		shared.rt = rt
		b, err := os.ReadFile(path)
		if err != nil {
			shared.err = err
			return
		}
		shared.c, shared.err = rt.Load(ctx, b)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.c
}

// start runs a driver until the test ends and returns its base URL.
func start(t *testing.T, settings map[string]any, resolve Resolver) (*Driver, string) {
	t.Helper()
	d, err := New(kernel.DriverSpec{Name: "web", Kind: Kind, Settings: settings}, kernel.DriverEnv{Logger: testLogger(t)}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the driver does not listen")
	}
	return d, "http://" + d.Addr().String()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fake is a Backend answering with its name and the path.
type fake string

func (f fake) Serve(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return nil
		}
		return err
	}
	fmt.Fprintf(w, "%s %s %d", f, r.URL.Path, len(b))
	return nil
}

func fakes(names ...string) Resolver {
	return func(box string) (Backend, error) {
		for _, n := range names {
			if n == box {
				return fake(n), nil
			}
		}
		return nil, fmt.Errorf("no box %q", box)
	}
}

func routes(rs ...[3]string) []any {
	var out []any
	for _, r := range rs {
		m := map[string]any{"box": r[2]}
		if r[0] != "" {
			m["host"] = r[0]
		}
		if r[1] != "" {
			m["path"] = r[1]
		}
		out = append(out, m)
	}
	return out
}

func get(t *testing.T, c *http.Client, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s (host %s): %v", url, host, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestRouting(t *testing.T) {
	_, base := start(t, map[string]any{
		"listen": "127.0.0.1:0",
		"routes": routes(
			[3]string{"", "/", "root"},
			[3]string{"", "/api", "api"},
			[3]string{"", "/api/v2/", "v2"},
			[3]string{"blog.example.com", "", "blog"},
			[3]string{"*.example.com", "/api", "sub-api"},
			[3]string{"", "/gone", "missing"},
		),
	}, fakes("root", "api", "v2", "blog", "sub-api"))
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	for _, tc := range []struct{ host, path, want string }{
		{"x", "/", "root /"},
		{"x", "/apix", "root /apix"},
		{"x", "/api", "api /api"},
		{"x", "/api/users", "api /api/users"},
		{"x", "/api/v2", "v2 /api/v2"},
		{"x", "/api/v2/a", "v2 /api/v2/a"},
		{"blog.example.com", "/api/x", "blog /api/x"},
		{"BLOG.example.com:8080", "/", "blog /"},
		{"shop.example.com", "/api/x", "sub-api /api/x"},
		{"shop.example.com", "/other", "root /other"},
		{"example.com", "/api", "api /api"},
	} {
		code, body := get(t, c, base+tc.path, tc.host)
		if code != 200 || body != tc.want+" 0" {
			t.Errorf("%s%s: %d %q, want %q", tc.host, tc.path, code, body, tc.want)
		}
	}
	if code, _ := get(t, c, base+"/gone", "x"); code != 503 {
		t.Errorf("route to a missing box: %d", code)
	}

	_, base = start(t, map[string]any{"listen": "127.0.0.1:0", "routes": routes([3]string{"only.test", "/", "root"})}, fakes("root"))
	if code, _ := get(t, c, base+"/", "other.test"); code != 404 {
		t.Errorf("no route: %d", code)
	}
}

func TestSettings(t *testing.T) {
	s, err := ParseSettings(map[string]any{
		"listen": ":8080", "routes": routes([3]string{"", "/a/", "x"}),
		"max_header_bytes": "8KiB", "max_body_bytes": 1000, "read_header_timeout": "2s",
		"write_timeout": "0s", "tls": map[string]any{"cert": "c.pem", "key": "/abs/k.pem"},
	}, "/data")
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxHeaderBytes != 8192 || s.MaxBodyBytes != 1000 || s.ReadHeaderTimeout != 2*time.Second ||
		s.ReadTimeout != DefaultReadTimeout || s.Routes[0].Path != "/a" || s.CertFile != "/data/c.pem" || s.KeyFile != "/abs/k.pem" {
		t.Errorf("%+v", s)
	}
	for _, bad := range []map[string]any{
		{},
		{"listen": "nohost"},
		{"listen": ":1", "routes": []any{map[string]any{"path": "/"}}},
		{"listen": ":1", "routes": []any{map[string]any{"box": "b", "path": "x"}}},
		{"listen": ":1", "routes": []any{map[string]any{"box": "b", "host": "a*.b"}}},
		{"listen": ":1", "routes": routes([3]string{"", "/", "a"}, [3]string{"", "/", "b"})},
		{"listen": ":1", "max_body_bytes": -1},
		{"listen": ":1", "max_body_bytes": "lots"},
		{"listen": ":1", "read_header_timeout": "0s"},
		{"listen": ":1", "tls": map[string]any{"cert": "c"}},
		{"listen": ":1", "colour": "blue"},
	} {
		if _, err := ParseSettings(bad, ""); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// Bad requests get errors or closed connections, and the driver goes on.
func TestLimits(t *testing.T) {
	d, base := start(t, map[string]any{
		"listen": "127.0.0.1:0", "routes": routes([3]string{"", "/", "box"}),
		"max_header_bytes": 4096, "max_body_bytes": 1000, "read_header_timeout": "300ms",
	}, fakes("box"))
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	ok := func(after string) {
		t.Helper()
		if code, body := get(t, c, base+"/ok", "h"); code != 200 || body != "box /ok 0" {
			t.Fatalf("after %s: %d %q", after, code, body)
		}
	}

	req, _ := http.NewRequest("GET", base+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 8192))
	if res, err := c.Do(req); err != nil || res.StatusCode != 431 {
		t.Errorf("big header: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	ok("a big header")
	// Past the setting but within net/http's 4 KiB of slack: still 431.
	req, _ = http.NewRequest("GET", base+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 4200))
	if res, err := c.Do(req); err != nil || res.StatusCode != 431 {
		t.Errorf("header just past max_header_bytes: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	ok("a header just past the limit")
	res, err := c.Post(base+"/", "text/plain", strings.NewReader(strings.Repeat("x", 2000)))
	if err != nil || res.StatusCode != 413 {
		t.Errorf("declared big body: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	ok("a declared big body")
	res, err = c.Post(base+"/", "text/plain", io.MultiReader(strings.NewReader(strings.Repeat("x", 2000))))
	if err == nil {
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Errorf("chunked big body: %d", res.StatusCode)
		}
	}
	ok("a chunked big body")

	// Slowloris: headers that never end are cut off after
	// read_header_timeout.
	conn, err := net.Dial("tcp", d.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if d := time.Since(start); d > 3*time.Second || (err != nil && !errors.Is(err, net.ErrClosed)) {
		t.Errorf("slowloris connection: after %v: %q, %v", d, b, err)
	}
	ok("slowloris")
}

// kernelIngress runs a kernel with the http-hello box "hello" (its spec
// changed by edit) and an ingress "web" (Factory: through the kernel) with
// routes, and returns them with the ingress's base URL.
func kernelIngress(t *testing.T, edit func(*kernel.BoxSpec), rs ...[3]string) (*kernel.Kernel, *Driver, string) {
	t.Helper()
	b, err := os.ReadFile(testcomponents.Path(t, "http-hello"))
	if err != nil {
		t.Fatal(err)
	}
	drv := make(chan *Driver, 1)
	factory := func(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
		n, err := Factory(spec, env)
		if err == nil {
			drv <- n.(*Driver)
		}
		return n, err
	}
	dir, _ := os.UserCacheDir()
	k, err := kernel.New(kernel.Config{Logger: testLogger(t), Drivers: map[string]kernel.DriverFactory{Kind: factory},
		CacheDir: filepath.Join(dir, "wbox", "test-compiled")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close(context.Background()) })
	spec := kernel.BoxSpec{Name: "hello", Wasm: b, Restart: kernel.RestartPolicy{Backoff: 20 * time.Millisecond}}
	if edit != nil {
		edit(&spec)
	}
	err = k.Apply(context.Background(), &kernel.Plan{
		Start:        []kernel.BoxSpec{spec},
		StartDrivers: []kernel.DriverSpec{{Name: "web", Kind: Kind, Settings: map[string]any{"listen": "127.0.0.1:0", "routes": routes(rs...)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := <-drv
	select {
	case <-d.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the driver does not listen")
	}
	return k, d, "http://" + d.Addr().String()
}

// The ingress as a kernel task, in front of the http-hello box run by the
// kernel: HTTP/1.1 and cleartext HTTP/2, each request a call into the box.
func TestKernelIngress(t *testing.T) {
	k, _, base := kernelIngress(t, func(s *kernel.BoxSpec) { s.Instances = 2 },
		[3]string{"", "/hello", "hello"}, [3]string{"", "/stream", "hello"})

	h1 := &http.Client{Timeout: 30 * time.Second}
	defer h1.CloseIdleConnections()
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: &protos}}
	defer h2c.CloseIdleConnections()
	for _, cl := range []struct {
		name  string
		c     *http.Client
		proto int
	}{{"HTTP/1.1", h1, 1}, {"h2c", h2c, 2}} {
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf("%s body %d", cl.name, i)
				res, err := cl.c.Post(base+"/hello/x?i="+fmt.Sprint(i), "text/plain", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				var e struct{ Method, Path, Query, Body string }
				if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
					t.Error(err)
					return
				}
				if res.StatusCode != 200 || res.ProtoMajor != cl.proto || e.Method != "POST" || e.Path != "/hello/x" || e.Body != body {
					t.Errorf("%s: %d %s %+v", cl.name, res.StatusCode, res.Proto, e)
				}
			}()
		}
		wg.Wait()
	}
	if code, _ := get(t, h1, base+"/elsewhere", "x"); code != 404 {
		t.Errorf("unrouted: %d", code)
	}
	// A 1 MiB streamed response.
	res, err := h1.Get(base + "/stream?chunks=16&size=65536")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || len(b) != 1<<20 || b[0] != 'a' || b[len(b)-1] != 'p' {
		t.Errorf("stream: %d bytes, %v", len(b), err)
	}
	if st := k.Snapshot().Drivers["web"]; st.State != kernel.StateRunning || st.Counters.CallsOut != 9 {
		t.Errorf("driver state %s (%s), %d calls out (want 9)", st.State, st.LastError, st.Counters.CallsOut)
	}
	if st := k.Snapshot().Boxes["hello"]; st.Counters.CallsIn != 9 || st.Counters.Errors != 0 {
		t.Errorf("box counters %+v, want 9 calls in", st.Counters)
	}
}

// TLS from certificate files, with HTTP/2.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pool := selfSigned(t, dir)
	_, base := start(t, map[string]any{
		"listen": "127.0.0.1:0", "routes": routes([3]string{"", "/", "box"}),
		"tls": map[string]any{"cert": filepath.Join(dir, "cert.pem"), "key": filepath.Join(dir, "key.pem")},
	}, fakes("box"))
	base = strings.Replace(base, "http://", "https://", 1)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	defer c.CloseIdleConnections()
	res, err := c.Post(base+"/secure", "text/plain", bytes.NewReader([]byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 || string(b) != "box /secure 3" {
		t.Errorf("%d %s %q", res.StatusCode, res.Proto, b)
	}
	// Bad key files fail Run (the supervisor retries it).
	d, err := New(kernel.DriverSpec{Name: "bad", Settings: map[string]any{
		"listen": "127.0.0.1:0", "tls": map[string]any{"cert": filepath.Join(dir, "none.pem"), "key": filepath.Join(dir, "key.pem")},
	}}, kernel.DriverEnv{}, fakes())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(context.Background()); err == nil {
		t.Error("Run with a missing certificate succeeded")
	}
}

// selfSigned writes cert.pem and key.pem for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wbox test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// A client that stalls in its body holds its instance only until the call
// timeout: the guest's blocked read is cut off and the request ends, and
// the box is not blamed (no restart).
func TestStalledBody(t *testing.T) {
	k, d, base := kernelIngress(t, func(s *kernel.BoxSpec) { s.Limits.CallTimeout = 500 * time.Millisecond },
		[3]string{"", "/", "hello"})
	conn, err := net.Dial("tcp", d.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\npartial")
	begin := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(conn)
	if el := time.Since(begin); el > 5*time.Second {
		t.Errorf("the stalled request ended after %v", el)
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 5") {
		t.Errorf("stalled request answered %q", b)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	res, err := c.Post(base+"/after", "text/plain", strings.NewReader("ok"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("after a stalled request: %d", res.StatusCode)
	}
	if st := k.Snapshot().Boxes["hello"]; st.Restarts != 0 || st.Counters.Timeouts != 0 {
		t.Errorf("a stalled client restarted the box: %+v", st)
	}
}

// A route with strip: true hides its prefix from the box.
func TestStrip(t *testing.T) {
	_, base := start(t, map[string]any{"listen": "127.0.0.1:0", "routes": []any{
		map[string]any{"path": "/api", "box": "api", "strip": true},
		map[string]any{"path": "/keep", "box": "keep"},
	}}, fakes("api", "keep"))
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	for path, want := range map[string]string{
		"/api/users?x=1": "api /users 0", "/api": "api / 0", "/api/": "api / 0", "/keep/a": "keep /keep/a 0",
	} {
		if code, body := get(t, c, base+path, "h"); code != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, code, body, want)
		}
	}
	if _, err := ParseSettings(map[string]any{"listen": ":1", "routes": []any{map[string]any{"box": "b", "strip": "yes"}}}, ""); err == nil {
		t.Error("strip: yes parsed")
	}
}

// Targets names each route's box with its setting path, for the linker.
func TestTargets(t *testing.T) {
	d, err := New(kernel.DriverSpec{Name: "web", Kind: Kind, Settings: map[string]any{
		"listen": "127.0.0.1:0", "routes": routes([3]string{"", "/", "a"}, [3]string{"h", "/", "b"}),
	}}, kernel.DriverEnv{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := d.Targets()
	if len(ts) != 2 || ts[1].Box != "b" || ts[1].Setting != "routes[1].box" || ts[0].Export != HandlerExport {
		t.Errorf("targets %+v", ts)
	}
	if err := d.Run(context.Background()); err == nil {
		t.Error("Run without a kernel succeeded")
	}
}

// ComponentBackend (wbox test's way: a component outside any kernel) serves
// request after request, a fresh instance each.
func TestComponentBackend(t *testing.T) {
	be := NewComponentBackend(hello(t), ComponentConfig{Prewarm: 1})
	defer be.Close()
	_, base := start(t, map[string]any{"listen": "127.0.0.1:0", "routes": routes([3]string{"", "/", "hello"})},
		func(string) (Backend, error) { return be, nil })
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	for i := range 3 {
		res, err := c.Post(base+"/b", "text/plain", strings.NewReader(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Path, Body string }
		err = json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || e.Path != "/b" || e.Body != fmt.Sprint(i) {
			t.Fatalf("request %d: %d %+v %v", i, res.StatusCode, e, err)
		}
	}
}

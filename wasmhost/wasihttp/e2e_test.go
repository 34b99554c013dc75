package wasihttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/wasi"
)

// The http-hello component (components/http-hello: a JS fetch event
// handler built by jco componentize on StarlingMonkey) behind a real
// net/http server on 127.0.0.1.

// syncBuffer collects the guest's stderr.
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

// freshHandler serves every request with a new instance, as wasmtime
// serve does: StarlingMonkey's fetch event handling serves one request per
// instance.
func freshHandler(t testing.TB, cfg Config, stderr io.Writer) http.Handler {
	c := helloComponent(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io := wasi.New(wasi.Config{Stderr: stderr, Stdout: stderr})
		defer io.Close()
		h := New(io, cfg)
		defer h.Close()
		inst, err := c.Instantiate(r.Context(), h.Imports())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer inst.Close(context.Background())
		if err := h.Serve(r.Context(), inst, w, r); errors.Is(err, ErrIncomplete) {
			panic(http.ErrAbortHandler)
		}
	})
}

// helloServer serves http-hello on 127.0.0.1.
func helloServer(t *testing.T, cfg Config) (*httptest.Server, *syncBuffer) {
	t.Helper()
	var stderr syncBuffer
	srv := httptest.NewUnstartedServer(freshHandler(t, cfg, &stderr))
	srv.Config.MaxHeaderBytes = 16 << 10
	srv.Config.ReadHeaderTimeout = 5 * time.Second
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("guest stderr:\n%s", stderr.String())
		}
	})
	return srv, &stderr
}

type echoed struct {
	Method, Path, Query, Host, Body string
	Header                          *string
	Length                          int
}

func do(t *testing.T, c *http.Client, method, url string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return res, b
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func decode(t *testing.T, b []byte) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("response %q: %v", b[:min(len(b), 200)], err)
	}
	return e
}

func TestHelloComponent(t *testing.T) {
	srv, _ := helloServer(t, Config{MaxRequestBody: 4 << 20})
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()

	// GET with a header.
	res, b := do(t, c, "GET", srv.URL+"/hello/world?x=1&y=two", nil, "X-Hello", "hello, world: 1")
	e := decode(t, b)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET: %d %v", res.StatusCode, res.Header)
	}
	if e.Method != "GET" || e.Path != "/hello/world" || e.Query != "?x=1&y=two" || e.Header == nil ||
		*e.Header != "hello, world: 1" || e.Body != "" || e.Host != srv.Listener.Addr().String() {
		t.Errorf("GET echoed %+v (header %v)", e, deref(e.Header))
	}
	if got := res.Header.Get("X-Hello-Echo"); got != "hello, world: 1" {
		t.Errorf("x-hello-echo %q", got)
	}

	// POST, PUT and DELETE with bodies; a status from the query.
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		res, b = do(t, c, m, srv.URL+"/items?status=201", strings.NewReader("a "+m+" body"))
		e = decode(t, b)
		if res.StatusCode != 201 || e.Method != m || e.Body != "a "+m+" body" || e.Header != nil {
			t.Errorf("%s: %d %+v", m, res.StatusCode, e)
		}
	}

	// A 1 MiB body, sent chunked, comes back whole.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	res, b = do(t, c, "POST", srv.URL+"/big", io.MultiReader(bytes.NewReader(big)))
	e = decode(t, b)
	if res.StatusCode != 200 || e.Length != len(big) || e.Body != string(big) {
		t.Errorf("1 MiB POST: %d, length %d", res.StatusCode, e.Length)
	}

	// A streamed 1 MiB response.
	res, b = do(t, c, "GET", srv.URL+"/stream?chunks=64&size=16384", nil)
	if res.StatusCode != 200 || len(b) != 1<<20 || res.ContentLength != -1 {
		t.Fatalf("stream: %d, %d bytes, content-length %d", res.StatusCode, len(b), res.ContentLength)
	}
	for i := 0; i < 64; i++ {
		chunk := b[i*16384 : (i+1)*16384]
		if want := byte('a' + i%26); bytes.Count(chunk, []byte{want}) != len(chunk) {
			t.Fatalf("stream chunk %d is not all %c", i, want)
		}
	}

	// HEAD gets the headers only.
	res, b = do(t, c, "HEAD", srv.URL+"/head", nil)
	if res.StatusCode != 200 || len(b) != 0 {
		t.Errorf("HEAD: %d, %d bytes", res.StatusCode, len(b))
	}
}

// Requests over the limits get 413 or 431 (or a closed connection), never a
// stuck instance: a normal request works after each.
func TestHelloLimits(t *testing.T) {
	srv, _ := helloServer(t, Config{MaxRequestBody: 64 << 10, MaxHeaderBytes: 8 << 10})
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	ok := func(after string) {
		t.Helper()
		res, b := do(t, c, "POST", srv.URL+"/ok", strings.NewReader("still fine"))
		if e := decode(t, b); res.StatusCode != 200 || e.Body != "still fine" {
			t.Fatalf("after %s: %d %+v", after, res.StatusCode, e)
		}
	}
	ok("nothing")

	// Headers over the Host's limit, then over the server's.
	res, _ := do(t, c, "GET", srv.URL+"/", nil, "X-Big", strings.Repeat("h", 10<<10))
	if res.StatusCode != 431 {
		t.Errorf("10 KiB header: %d", res.StatusCode)
	}
	ok("a 10 KiB header")
	res, _ = do(t, c, "GET", srv.URL+"/", nil, "X-Bigger", strings.Repeat("h", 40<<10))
	if res.StatusCode != 431 {
		t.Errorf("40 KiB header: %d", res.StatusCode)
	}
	ok("a 40 KiB header")

	// A declared body over the limit.
	res, _ = do(t, c, "POST", srv.URL+"/", bytes.NewReader(make([]byte, 100<<10)))
	if res.StatusCode != 413 {
		t.Errorf("declared 100 KiB body: %d", res.StatusCode)
	}
	ok("a declared big body")

	// A chunked body over the limit: 413, or the connection closes while
	// the client still sends.
	req, _ := http.NewRequest("POST", srv.URL+"/", io.MultiReader(bytes.NewReader(make([]byte, 1<<20))))
	if res, err := c.Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Errorf("chunked 1 MiB body: %d", res.StatusCode)
		}
	}
	ok("a chunked big body")

	// A request line and headers that never end (slowloris) do not hold
	// the instance: other requests go on meanwhile.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
	ok("a stalled request")
}

// The guest's fetch goes through outgoing-handler and its allow-list.
func TestHelloFetch(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", r.Header.Get("X-From"))
		io.WriteString(w, "upstream says hi to "+r.URL.Path)
	}))
	defer upstream.Close()
	srv, _ := helloServer(t, Config{AllowedHosts: []string{upstream.Listener.Addr().String()}})
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()

	var out struct {
		Status         int
		Upstream, Body string
		Error          string
	}
	res, b := do(t, c, "GET", srv.URL+"/fetch?url="+upstream.URL+"/there", nil)
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != 200 {
		t.Fatalf("fetch: %d %q", res.StatusCode, b)
	}
	if out.Status != 200 || out.Upstream != "http-hello" || out.Body != "upstream says hi to /there" {
		t.Errorf("fetch: %+v", out)
	}

	// Off the allow-list: the guest's fetch fails.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the denied server was reached")
	}))
	defer other.Close()
	res, b = do(t, c, "GET", srv.URL+"/fetch?url="+other.URL+"/", nil)
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != 502 || out.Error == "" {
		t.Errorf("denied fetch: %d %q", res.StatusCode, b)
	}
}

// HTTP/2 over TLS, requests in parallel on one connection (the instance
// serves them one at a time).
func TestHelloHTTP2(t *testing.T) {
	var stderr syncBuffer
	srv := httptest.NewUnstartedServer(freshHandler(t, Config{}, &stderr))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := srv.Client()
	c.Timeout = 30 * time.Second
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf("request %d", i)
			res, err := c.Post(srv.URL+fmt.Sprintf("/h2/%d", i), "text/plain", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			var e echoed
			if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
				errs <- err
				return
			}
			if res.ProtoMajor != 2 || e.Body != body || e.Path != fmt.Sprintf("/h2/%d", i) {
				errs <- fmt.Errorf("request %d: %s %+v", i, res.Proto, e)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

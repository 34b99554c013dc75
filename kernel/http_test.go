package kernel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

// serveKernel is a real HTTP server on 127.0.0.1 whose every request is
// served by box through Kernel.ServeHTTP; errs receives ServeHTTP's errors.
func serveKernel(t *testing.T, k *kernel.Kernel, box string) (*httptest.Server, chan error) {
	t.Helper()
	errs := make(chan error, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := k.ServeHTTP(r.Context(), box, w, r); err != nil {
			select {
			case errs <- err:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, errs
}

type echoReply struct {
	Method, Path, Query, Host, Header, Body string
	Length                                  int
}

func getJSON(t *testing.T, c *http.Client, method, u, body string) (int, echoReply, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-hello", "wbox")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	var e echoReply
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, u, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, e, resp.Header
}

// The JS fetch handler (StarlingMonkey) serves one request per instance:
// the kernel detects it, runs it fresh, and it serves request after
// request, each counted as a call.
func TestServeHTTPFreshStarlingMonkey(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{box(t, "web", "http-hello")}})
	s := k.Snapshot().Boxes["web"]
	if !s.Fresh || !s.HTTP {
		t.Fatalf("http-hello: Fresh %v, HTTP %v; want both (a StarlingMonkey fetch handler)", s.Fresh, s.HTTP)
	}
	srv, errs := serveKernel(t, k, "web")
	first := s.Instances[0]
	const n = 6
	for i := range n {
		method, body := "GET", ""
		if i%2 == 1 {
			method, body = "POST", strings.Repeat("x", 1000*i)
		}
		code, e, h := getJSON(t, srv.Client(), method, fmt.Sprintf("%s/p/%d?q=%d", srv.URL, i, i), body)
		if code != 200 || e.Method != method || e.Path != fmt.Sprintf("/p/%d", i) || e.Query != fmt.Sprintf("?q=%d", i) ||
			e.Body != body || e.Length != len(body) || e.Header != "wbox" || h.Get("x-hello-echo") != "wbox" {
			t.Fatalf("request %d: %d %+v %v", i, code, e, h)
		}
	}
	select {
	case err := <-errs:
		t.Fatalf("ServeHTTP: %v", err)
	default:
	}
	s = k.Snapshot().Boxes["web"]
	if s.Counters.CallsIn != n || s.Counters.Errors != 0 || s.Restarts != 0 {
		t.Fatalf("counters %+v, restarts %d: want %d calls, no errors", s.Counters, s.Restarts, n)
	}
	// Each call had its own instance: the one after the nth is n later.
	var seq int
	fmt.Sscanf(first, "web.%d", &seq)
	want := fmt.Sprintf("web.%d", seq+n)
	waitFor(t, "instance "+want, func() bool {
		is := k.Snapshot().Boxes["web"].Instances
		return len(is) == 1 && is[0] == want
	})
}

// Outgoing requests go only to the hosts of the box's allow-list; a change
// of the list restarts the box (its fingerprint).
func TestServeHTTPAllowList(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-upstream", "yes")
		fmt.Fprintf(w, "from upstream, x-from=%s", r.Header.Get("x-from"))
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)

	k := newKernel(t, kernel.Config{})
	denied := box(t, "web", "http-hello")
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{denied}})
	srv, _ := serveKernel(t, k, "web")
	fetch := srv.URL + "/fetch?url=" + url.QueryEscape(upstream.URL+"/x")

	resp, err := srv.Client().Get(fetch)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || strings.Contains(string(b), "from upstream") {
		t.Fatalf("without a grant: %d %s; want 502 (the fetch denied)", resp.StatusCode, b)
	}

	allowed := denied
	allowed.HTTP = kernel.HTTPGrants{Allow: []string{"example.org", u.Host}}
	if kernel.Fingerprint(allowed) == kernel.Fingerprint(denied) {
		t.Fatal("the allow-list is not part of the fingerprint")
	}
	apply(t, k, kernel.Plan{Restart: []kernel.BoxSpec{allowed}})
	resp, err = srv.Client().Get(fetch)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct {
		Status   int
		Upstream string
		Body     string
	}
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 || got.Status != 200 ||
		got.Upstream != "yes" || got.Body != "from upstream, x-from=http-hello" {
		t.Fatalf("with %s allowed: %d %s (%v)", u.Host, resp.StatusCode, b, err)
	}
}

// Requests count against MaxInFlight: one more gets 503 at once; a client
// that gives up while its request runs interrupts the guest, and the box
// serves the next one.
func TestServeHTTPOverloadAndCancel(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{}, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "late")
	}))
	defer upstream.Close()
	defer once.Do(func() { close(release) })
	u, _ := url.Parse(upstream.URL)

	k := newKernel(t, kernel.Config{})
	spec := box(t, "web", "http-hello")
	spec.HTTP.Allow = []string{u.Host}
	spec.Limits.MaxInFlight = 1
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{spec}})
	srv, _ := serveKernel(t, k, "web")

	ctx, cancel := context.WithCancel(context.Background())
	slow := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/fetch?url="+url.QueryEscape(upstream.URL), nil)
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	<-entered // the box is inside its one call

	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over max-in-flight: %d %v; want 503 with Retry-After", resp.StatusCode, resp.Header)
	}
	if s := k.Snapshot().Boxes["web"]; s.Counters.Overloaded != 1 {
		t.Fatalf("overloaded counter %d, want 1", s.Counters.Overloaded)
	}

	cancel() // the client gives up mid-call
	if err := <-slow; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled client: %v", err)
	}
	waitFor(t, "the cancelled call to end", func() bool { return inFlight(k, "web") == 0 })
	code, e, _ := getJSON(t, srv.Client(), "GET", srv.URL+"/after", "")
	if code != 200 || e.Path != "/after" {
		t.Fatalf("after a cancelled call: %d %+v", code, e)
	}
	if s := k.Snapshot().Boxes["web"]; s.Restarts != 0 || s.State != kernel.StateRunning {
		t.Fatalf("a cancelled call restarted the box: %+v", s)
	}
}

// A request for a box that does not run, or a task that serves no HTTP,
// is answered with an error status by ServeHTTP itself.
func TestServeHTTPNoBox(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{box(t, "leaf", "leaf")}})
	for _, c := range []struct {
		box  string
		kind error
		code int
	}{{"nope", kernel.ErrNoTask, 503}, {"leaf", kernel.ErrNoFunc, 500}} {
		rec := httptest.NewRecorder()
		err := k.ServeHTTP(context.Background(), c.box, rec, httptest.NewRequest("GET", "/", nil))
		wantErr(t, err, c.kind)
		if rec.Code != c.code {
			t.Fatalf("box %s: status %d, want %d", c.box, rec.Code, c.code)
		}
	}
}

// ServeHTTP is exposed to drivers through DriverEnv, with the driver as
// the caller (its calls out).
func TestServeHTTPFromDriver(t *testing.T) {
	var env kernel.DriverEnv
	got := make(chan kernel.DriverEnv, 1)
	k := newKernel(t, kernel.Config{Drivers: map[string]kernel.DriverFactory{
		"ingress": func(_ kernel.DriverSpec, e kernel.DriverEnv) (kernel.Native, error) {
			got <- e
			return newGate(1), nil
		},
	}})
	apply(t, k, kernel.Plan{
		Start:        []kernel.BoxSpec{box(t, "web", "http-hello")},
		StartDrivers: []kernel.DriverSpec{{Name: "in", Kind: "ingress"}},
	})
	env = <-got
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.ServeHTTP(r.Context(), "web", w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	code, e, _ := getJSON(t, http.DefaultClient, "PUT", "http://"+ln.Addr().String()+"/d", "body")
	if code != 200 || e.Method != "PUT" || e.Body != "body" {
		t.Fatalf("through the driver: %d %+v", code, e)
	}
	if d := k.Snapshot().Drivers["in"]; d.Counters.CallsOut != 1 {
		t.Fatalf("driver calls out %d, want 1", d.Counters.CallsOut)
	}
}

// A Go box reuses its instance; a handler that crashes answers 500, fails
// the box, which restarts, and the next request is served.
func TestServeHTTPCrashRestarts(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{box(t, "web", "http-go")}})
	s := k.Snapshot().Boxes["web"]
	if s.Fresh || !s.HTTP {
		t.Fatalf("http-go: Fresh %v, HTTP %v; want a reused HTTP box", s.Fresh, s.HTTP)
	}
	srv, _ := serveKernel(t, k, "web")
	body := func(method, path, in string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(in))
		req.Header.Set("x-hello", "go")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i := range 3 {
		if code, b := body("POST", "/e", strings.Repeat("z", i)); code != 200 || b != fmt.Sprintf("POST /e x-hello=go body=%d:%s", i, strings.Repeat("z", i)) {
			t.Fatalf("request %d: %d %q", i, code, b)
		}
	}
	if is := k.Snapshot().Boxes["web"].Instances; len(is) != 1 || is[0] != s.Instances[0] {
		t.Fatalf("instances %v after 3 calls, want %v still", is, s.Instances)
	}
	if code, _ := body("GET", "/crash", ""); code != 500 {
		t.Fatalf("a crashing handler: %d, want 500", code)
	}
	running(t, k, "web", 1)
	if code, b := body("GET", "/after", ""); code != 200 || !strings.HasPrefix(b, "GET /after") {
		t.Fatalf("after the restart: %d %q", code, b)
	}
	if !hasEvent(k, "web", kernel.EvBoxFailed) {
		t.Fatal("no box.failed event")
	}
}

// Requests keep being served across a deploy that restarts the box (its
// grants changed): a request caught by the old instances is passed on to
// the new ones, so none fails.
func TestServeHTTPAcrossRestart(t *testing.T) {
	k := newKernel(t, kernel.Config{})
	spec := box(t, "web", "http-go")
	spec.Instances = 2
	apply(t, k, kernel.Plan{Start: []kernel.BoxSpec{spec}})
	srv, _ := serveKernel(t, k, "web")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var served int
	var bad []string
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := srv.Client().Get(srv.URL + "/x")
				if err != nil {
					mu.Lock()
					bad = append(bad, err.Error())
					mu.Unlock()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode != 200 {
					bad = append(bad, fmt.Sprintf("%d %s", resp.StatusCode, b))
				}
				served++
				mu.Unlock()
			}
		})
	}
	for i := range 3 {
		spec.HTTP.Allow = []string{fmt.Sprintf("h%d.example", i)}
		apply(t, k, kernel.Plan{Restart: []kernel.BoxSpec{spec}})
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if len(bad) > 0 || served == 0 {
		t.Fatalf("%d served; failures: %q", served, bad)
	}
}

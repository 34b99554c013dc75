package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// freeAddr returns a 127.0.0.1 address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// httpTopology writes examples/http/topology.yaml with absolute component
// paths, listening on addr, with edits (old, new pairs) applied.
func httpTopology(t *testing.T, addr string, edits ...string) string {
	t.Helper()
	root := testcomponents.RepoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "examples", "http", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(src), "../../build/components/", filepath.Join(root, "build", "components")+"/")
	s = strings.Replace(s, "listen: 127.0.0.1:8080", "listen: "+addr, 1)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("examples/http/topology.yaml has no %q", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type httpResult struct {
	code   int
	body   string
	header http.Header
}

func do(t *testing.T, c *http.Client, method, url, host, body string, hdr ...string) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return httpResult{resp.StatusCode, string(b), resp.Header}
}

// `wbox up` the http example and use it over 127.0.0.1 as a client would:
// both boxes, host and prefix routing, 404, a crashing handler (500, the
// box restarts, the next request is served), overload (503), oversized
// headers and bodies (431, 413), slowloris cut off, and `wbox status`
// counting the calls.
func TestHTTPEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	testcomponents.Path(t, "http-hello")
	testcomponents.Path(t, "http-go")
	e := &e2e{t: t, bin: wboxBinary(t), data: t.TempDir()}
	addr := freeAddr(t)
	topo := httpTopology(t, addr,
		"{path: /, box: js}", "{path: /js, box: js}",
		"max-in-flight: 16", "max-in-flight: 2",
		"max_header_bytes: 65536", "max_header_bytes: 4096",
		"read_header_timeout: 10s", "read_header_timeout: 500ms")
	cmd, _, stderr := e.up(topo)
	base := "http://" + addr
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()

	// The JS box: a fresh instance per request, request after request.
	for i := range 3 {
		r := do(t, c, "POST", fmt.Sprintf("%s/js/p%d?n=%d", base, i, i), "", strings.Repeat("j", i*100), "x-hello", "e2e")
		var got struct {
			Method, Path, Query, Header, Body string
			Length                            int
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.code != 200 || got.Method != "POST" ||
			got.Path != fmt.Sprintf("/js/p%d", i) || got.Query != fmt.Sprintf("?n=%d", i) || got.Length != i*100 || got.Header != "e2e" {
			t.Fatalf("js request %d: %d %q (%v)", i, r.code, r.body, err)
		}
	}
	// The Go box, by prefix (stripped) and by host.
	if r := do(t, c, "POST", base+"/go/echo", "", "hello go", "x-hello", "1"); r.code != 200 || r.body != "POST /echo x-hello=1 body=8:hello go" {
		t.Fatalf("go by prefix: %d %q", r.code, r.body)
	}
	if r := do(t, c, "GET", base+"/y", "go.localhost", ""); r.code != 200 || r.body != "GET /y x-hello= body=0:" {
		t.Fatalf("go by host: %d %q", r.code, r.body)
	}
	if r := do(t, c, "GET", base+"/nothing", "", ""); r.code != 404 {
		t.Fatalf("no route: %d %q", r.code, r.body)
	}

	// A crashing handler: 500, the box restarts, the next request is served.
	if r := do(t, c, "GET", base+"/go/crash", "", ""); r.code != 500 {
		t.Fatalf("crash: %d %q", r.code, r.body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := do(t, c, "GET", base+"/go/back", "", "")
		if r.code == 200 && r.body == "GET /back x-hello= body=0:" {
			break
		}
		if r.code != 503 || time.Now().After(deadline) {
			t.Fatalf("after the crash: %d %q\n%s", r.code, r.body, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b := boxByName(t, e.status(), "go"); b.Restarts != 1 || b.State != "running" {
		t.Fatalf("go after a crash: %+v", b)
	}

	// Overload: two calls may be queued or running; a third gets 503.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if r := do(t, c, "GET", base+"/go/sleep?ms=1500", "", ""); r.code != 200 {
				t.Errorf("sleeper: %d %q", r.code, r.body)
			}
		})
	}
	for inFlight := 0; inFlight < 2; {
		inFlight = boxByName(t, e.status(), "go").InFlight
		time.Sleep(10 * time.Millisecond)
	}
	if r := do(t, c, "GET", base+"/go/more", "", ""); r.code != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("over max-in-flight: %d %q %v", r.code, r.body, r.header)
	}
	wg.Wait()

	// Oversized headers and bodies.
	if r := do(t, c, "GET", base+"/go/h", "", "", "x-big", strings.Repeat("b", 8192)); r.code != 431 {
		t.Errorf("big headers: %d", r.code)
	}
	if r := do(t, c, "POST", base+"/go/b", "", strings.Repeat("x", 2<<20)); r.code != 413 {
		t.Errorf("big body: %d", r.code)
	}

	// Slowloris: headers that never end are cut off.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /go/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.ReadAll(conn)
	conn.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("slowloris connection lived %v", took)
	}
	if r := do(t, c, "GET", base+"/go/still", "", ""); r.code != 200 {
		t.Errorf("after slowloris: %d", r.code)
	}

	// wbox status counts the calls.
	st := e.status()
	if js := boxByName(t, st, "js"); js.Calls != 3 || js.Errors != 0 {
		t.Errorf("js: %d calls, %d errors; want 3, 0", js.Calls, js.Errors)
	}
	// go: since its restart, /back (and 503s before it), 2 sleepers, the
	// overloaded one, /still.
	if gb := boxByName(t, st, "go"); gb.Calls < 5 || gb.Errors < 1 {
		t.Errorf("go: %d calls, %d errors", gb.Calls, gb.Errors)
	}
	if out := e.ok("status"); !strings.Contains(out, "web") {
		t.Errorf("status lacks the ingress:\n%s", out)
	}
	e.ok("stop")
	waitExit(t, cmd, stderr)
}

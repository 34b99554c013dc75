// Package selfhost tests the self-hosting showcase end to end: the real
// wbox binary runs examples/selfhost/topology.yaml and real clients use the
// website, the visit counter (by host and by path) and Redis over TCP.
package selfhost

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

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// up builds wbox, starts `wbox up topo` and waits until every address
// accepts connections; SIGINT stops it when the test ends.
func up(t *testing.T, topo string, addrs ...string) {
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
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("wbox up did not stop on SIGINT\nstderr:\n%s", stderr)
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for _, addr := range addrs {
		for {
			if strings.Contains(stdout.String(), "wbox is up") {
				if c, err := net.Dial("tcp", addr); err == nil {
					c.Close()
					break
				}
			}
			select {
			case <-exited:
				t.Fatalf("wbox up exited\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("wbox up did not come up on %s\nstdout:\n%s\nstderr:\n%s", addr, stdout, stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func get(t *testing.T, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s (host %q): %v", url, host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// redis sends one command in RESP and returns the reply's first line.
func redis(t *testing.T, rw *bufio.ReadWriter, args ...string) string {
	t.Helper()
	fmt.Fprintf(rw, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(rw, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	line, err := rw.ReadString('\n')
	if err != nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "$") && line != "$-1" {
		body, err := rw.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(body, "\r\n")
	}
	return line
}

func TestSelfhost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	comps := map[string]string{}
	for _, c := range []string{"static-site", "kv-counter", "redis-kv"} {
		comps[c] = testcomponents.Path(t, c)
	}
	root := testcomponents.RepoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "examples", "selfhost", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	web, rds := freeAddr(t), freeAddr(t)
	s := string(src)
	for c, p := range comps {
		s = strings.ReplaceAll(s, "../../build/components/"+c+".wasm", p)
	}
	s = strings.ReplaceAll(s, "127.0.0.1:8080", web)
	s = strings.ReplaceAll(s, "127.0.0.1:6379", rds)
	s = strings.ReplaceAll(s, "dir: site", "dir: "+filepath.Join(root, "examples", "selfhost", "site"))
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(topo, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	up(t, topo, web, rds)

	// The website, by path /.
	if code, body := get(t, "http://"+web+"/", ""); code != 200 || !strings.Contains(body, "Self-hosted on wbox") {
		t.Fatalf("GET / = %d %q", code, body)
	}
	// The counter by path: it sees the whole path and counts each one.
	for i := 1; i <= 3; i++ {
		code, body := get(t, "http://"+web+"/visits/home", "")
		if want := fmt.Sprintf("/visits/home has been visited %d time", i); code != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /visits/home #%d = %d %q, want %q", i, code, body, want)
		}
	}
	// The counter by host, for any path.
	if code, body := get(t, "http://"+web+"/index.html", "counter.localhost"); code != 200 || !strings.Contains(body, "/index.html has been visited 1 time") {
		t.Fatalf("GET counter.localhost/index.html = %d %q", code, body)
	}
	// The same path on the default host is the site's file.
	if code, body := get(t, "http://"+web+"/index.html", ""); code != 200 || !strings.Contains(body, "<title>My wbox node</title>") {
		t.Fatalf("GET /index.html = %d %q", code, body)
	}
	if code, _ := get(t, "http://"+web+"/missing", ""); code != 404 {
		t.Fatalf("GET /missing = %d", code)
	}

	// Redis over raw TCP, keeping its data in the same kv driver as the
	// counter, in its own namespace.
	c, err := net.Dial("tcp", rds)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	rw := bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c))
	if got := redis(t, rw, "SET", "greeting", "hello"); got != "+OK" {
		t.Fatalf("SET = %q", got)
	}
	if got := redis(t, rw, "GET", "greeting"); got != "hello" {
		t.Fatalf("GET = %q", got)
	}
	if got := redis(t, rw, "INCR", "hits"); got != ":1" {
		t.Fatalf("INCR = %q", got)
	}
	if got := redis(t, rw, "GET", "/visits/home"); got != "$-1" {
		t.Fatalf("redis sees the counter's key: %q", got)
	}
}

// Package kvcounter tests the kv-counter example end to end: the real wbox
// binary runs examples/kv-counter/topology.yaml (the http ingress, the
// kv-counter box and the kv driver), a real HTTP client visits it, the node
// is stopped with `wbox stop` and started again, and the counts go on.
package kvcounter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

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

type node struct {
	t         *testing.T
	bin, data string
	topo      string
	addr      string
}

// up starts `wbox up` and waits until the ingress answers; it returns a
// func that waits for the node to exit.
func (n *node) up() (wait func()) {
	t := n.t
	t.Helper()
	cmd := exec.Command(n.bin, "up", "--data", n.data, n.topo)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}) // closed when the process exited, with waitErr set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		if strings.Contains(stdout.String(), "wbox is up") {
			if c, err := net.Dial("tcp", n.addr); err == nil {
				c.Close()
				break
			}
		}
		select {
		case <-done:
			t.Fatalf("wbox up exited: %v\nstdout:\n%s\nstderr:\n%s", waitErr, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("wbox up did not come up on %s\nstdout:\n%s\nstderr:\n%s", n.addr, stdout, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		select {
		case <-done:
			if waitErr != nil {
				t.Fatalf("wbox up: %v\nstderr:\n%s", waitErr, stderr)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("wbox up did not exit\nstderr:\n%s", stderr)
		}
	}
}

func (n *node) wbox(args ...string) string {
	n.t.Helper()
	full := append([]string{args[0], "--data", n.data}, args[1:]...)
	out, err := exec.Command(n.bin, full...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("wbox %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func get(t *testing.T, url string, hdr ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func TestKVCounter(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	comp := testcomponents.Path(t, "kv-counter")
	root := testcomponents.RepoRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "wbox")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "wbox")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	src, err := os.ReadFile("topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(src), "../../build/components/kv-counter.wasm", comp)
	s = strings.ReplaceAll(s, "127.0.0.1:8080", addr)
	topo := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(topo, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, bin: bin, data: t.TempDir(), topo: topo, addr: addr}
	base := "http://" + addr

	wait := n.up()
	for i := 1; i <= 3; i++ {
		code, ctype, body := get(t, base+"/hello")
		times := "times"
		if i == 1 {
			times = "time"
		}
		if want := fmt.Sprintf("/hello has been visited %d %s\n", i, times); code != 200 || body != want || ctype != "text/plain; charset=utf-8" {
			t.Fatalf("visit %d: %d %s %q, want %q", i, code, ctype, body, want)
		}
	}
	// Paths count apart; the query is not part of the path.
	if _, _, body := get(t, base+"/other?x=1"); body != "/other has been visited 1 time\n" {
		t.Fatalf("/other: %q", body)
	}
	// 4 instances, 40 concurrent visits: increments are atomic.
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(base + "/busy")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("busy: %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	code, ctype, body := get(t, base+"/busy", "Accept", "application/json")
	var v struct {
		Path   string `json:"path"`
		Visits int64  `json:"visits"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 || ctype != "application/json" || v.Path != "/busy" || v.Visits != 41 {
		t.Fatalf("after 40 concurrent visits: %d %s %q (%v)", code, ctype, body, err)
	}
	if logs := n.wbox("logs", "kv-counter"); !strings.Contains(logs, "/hello visit 3") {
		t.Errorf("wbox logs kv-counter lacks the box's log line:\n%s", logs)
	}

	// Restart the node: the counts go on.
	if out := n.wbox("stop"); out != "node stopped\n" {
		t.Fatalf("stop: %q", out)
	}
	wait()
	n.up()
	if _, _, body := get(t, base+"/hello?format=json"); body != `{"path":"/hello","visits":4}`+"\n" {
		t.Fatalf("after the restart: %q", body)
	}
	n.wbox("stop")
}

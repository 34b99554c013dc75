// Package redis tests the redis example end to end: `wbox up` its topology
// (the tcp driver, the redis-kv box and the kv driver) and talk to it with
// Debian's redis-cli and raw sockets, as a user would.
package redis

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// wboxBinary builds cmd/wbox once per test run.
func wboxBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wbox-redis-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "wbox")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/wbox-dev/wbox/cmd/wbox").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// redisCLI finds Debian's redis-cli (package redis-tools): skipped locally
// when missing, a failure under CI (.ci/run installs it).
func redisCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-cli is missing: .ci/run installs redis-tools")
		}
		t.Skip("redis-cli is missing: apt-get install redis-tools")
	}
	return p
}

// freePort returns a port on 127.0.0.1 nothing listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// node is a `wbox up` of the example topology on a port of its own.
type node struct {
	t    *testing.T
	bin  string
	cli  string
	data string
	topo string
	port int
	cmd  *exec.Cmd
	out  *strings.Builder
}

// newNode writes the example topology with its port and component path
// adapted to the test, in a temporary directory.
func newNode(t *testing.T) *node {
	t.Helper()
	n := &node{t: t, cli: redisCLI(t), bin: wboxBinary(t), data: t.TempDir(), port: freePort(t)}
	src, err := os.ReadFile("topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo := strings.Replace(string(src), "127.0.0.1:6379", fmt.Sprintf("127.0.0.1:%d", n.port), 1)
	topo = strings.Replace(topo, "../../build/components/redis-kv.wasm", testcomponents.Path(t, "redis-kv"), 1)
	if !strings.Contains(topo, fmt.Sprint(n.port)) {
		t.Fatal("the example topology does not listen on 127.0.0.1:6379 any more")
	}
	n.topo = filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(n.topo, []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

// up starts the node and waits until it answers PING.
func (n *node) up() {
	n.t.Helper()
	n.out = &strings.Builder{}
	n.cmd = exec.Command(n.bin, "up", "--data", n.data, n.topo)
	w := &lockedWriter{b: n.out}
	n.cmd.Stdout, n.cmd.Stderr = w, w
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	cmd := n.cmd
	n.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if out, err := exec.Command(n.cli, "-p", fmt.Sprint(n.port), "ping").Output(); err == nil && strings.TrimSpace(string(out)) == "PONG" {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("the node never answered PING; its output:\n%s", w.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// down stops the node with SIGINT, as Ctrl-C does, and waits for it.
func (n *node) down() {
	n.t.Helper()
	n.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.t.Fatalf("wbox up exited with %v; output:\n%s", err, n.out.String())
		}
	case <-time.After(60 * time.Second):
		n.cmd.Process.Kill()
		<-done
		n.t.Fatalf("wbox up did not stop on SIGINT; output:\n%s", n.out.String())
	}
}

type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// redis runs redis-cli with args (each one argument of the command) and
// returns its output, trimmed.
func (n *node) redis(args ...string) string {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.cli, append([]string{"-p", fmt.Sprint(n.port)}, args...)...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("redis-cli %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

func (n *node) want(want string, args ...string) {
	n.t.Helper()
	if got := n.redis(args...); got != want {
		n.t.Errorf("redis-cli %s = %q, want %q", strings.Join(args, " "), got, want)
	}
}

// raw sends bytes on a fresh connection and returns everything the server
// answers until it closes the connection or stays silent for a moment
// after the expected number of bytes.
func (n *node) raw(req string, closeAfter bool) string {
	n.t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", n.port))
	if err != nil {
		n.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		n.t.Fatal(err)
	}
	if closeAfter {
		c.(*net.TCPConn).CloseWrite()
	}
	b, err := io.ReadAll(c)
	if err != nil && !strings.Contains(err.Error(), "reset") {
		n.t.Fatalf("reading the answer to %.60q: %v (got %.60q)", req, err, b)
	}
	return string(b)
}

func TestRedisCommands(t *testing.T) {
	n := newNode(t)
	n.up()
	defer n.down()

	n.want("PONG", "ping")
	n.want("hi there", "ping", "hi there")
	n.want("hello", "echo", "hello")
	n.want("", "get", "missing")
	n.want("OK", "set", "k", "v1")
	n.want("v1", "get", "k")
	n.want("OK", "set", "k", "v2")
	n.want("v2", "get", "k")
	if got := n.raw("*3\r\n$3\r\nSET\r\n$3\r\nbin\r\n$6\r\na\x00b\r\nc\r\n*2\r\n$3\r\nGET\r\n$3\r\nbin\r\n", true); got != "+OK\r\n$6\r\na\x00b\r\nc\r\n" {
		t.Errorf("binary value: %q", got)
	}
	n.want("", "set", "k", "v3", "nx")
	n.want("v2", "get", "k")
	n.want("OK", "set", "k", "v3", "xx")
	n.want("", "set", "nope", "v", "xx")
	n.want("OK", "set", "new", "v", "nx")
	n.want("ERR syntax error", "set", "k", "v", "bogus")
	n.want("ERR invalid expire time in 'set' command", "set", "k", "v", "ex", "-1")

	// Counters: stored as decimal text, so GET sees them.
	n.want("1", "incr", "c")
	n.want("11", "incrby", "c", "10")
	n.want("10", "decr", "c")
	n.want("0", "decrby", "c", "10")
	n.want("-5", "decrby", "c", "5")
	n.want("-5", "get", "c")
	n.want("ERR value is not an integer or out of range", "incr", "k")
	n.want("ERR value is not an integer or out of range", "incrby", "c", "x")
	n.want("OK", "set", "big", "9223372036854775807")
	n.want("ERR increment or decrement would overflow", "incr", "big")

	// Many keys at once.
	n.want("OK", "mset", "a", "1", "b", "2", "c", "3")
	n.want("1\n\n2\n3", "mget", "a", "zz", "b", "c")
	n.want("2", "exists", "a", "b", "zz")
	n.want("3", "del", "a", "b", "zz", "c")
	n.want("0", "exists", "a", "b", "c")
	n.want("", "get", "a")
	n.want("0", "del", "a")

	// Expiry, checked lazily against the wall clock.
	n.want("-2", "ttl", "nokey")
	n.want("-1", "ttl", "k")
	n.want("OK", "set", "e", "v", "ex", "100")
	if got := n.redis("ttl", "e"); got != "100" && got != "99" {
		t.Errorf("ttl e = %s, want 100", got)
	}
	n.want("1", "expire", "k", "1000")
	n.want("1000", "ttl", "k")
	n.want("1", "persist", "k")
	n.want("-1", "ttl", "k")
	n.want("0", "expire", "nokey", "10")
	n.want("OK", "set", "k", "v", "ex", "5")
	n.want("OK", "set", "k", "w")
	n.want("-1", "ttl", "k") // SET clears the expiry
	n.want("OK", "set", "p", "v", "px", "30")
	deadline := time.Now().Add(20 * time.Second)
	for n.redis("get", "p") != "" {
		if time.Now().After(deadline) {
			t.Fatal("a key set with PX 30 never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.want("0", "exists", "p")
	n.want("-2", "pttl", "p")
	n.want("OK", "set", "q", "v")
	n.want("1", "pexpire", "q", "60000")
	if got := n.redis("pttl", "q"); len(got) != 5 || got > "60000" {
		t.Errorf("pttl q = %s, want <= 60000", got)
	}
	n.want("1", "expire", "q", "0") // expiring in the past deletes
	n.want("0", "exists", "q")

	// What redis-cli and redis-benchmark send on connect, and errors.
	n.want("", "command")
	n.want("OK", "select", "0")
	n.want("ERR DB index is out of range", "select", "1")
	n.want("save", "config", "get", "save")
	n.want("ERR unknown command 'flushall'", "flushall")
	n.want("ERR wrong number of arguments for 'get' command", "get")
	n.want("ERR keys must be valid UTF-8 in this store", "set", "\xff\xfe", "v")
}

func TestRedisInlineAndPipelining(t *testing.T) {
	n := newNode(t)
	n.up()
	defer n.down()

	// Inline commands, as telnet users type them.
	if got := n.raw("PING\r\nSET  key   value\r\nGET key\nQUIT\r\n", false); got != "+PONG\r\n+OK\r\n$5\r\nvalue\r\n+OK\r\n" {
		t.Errorf("inline: %q", got)
	}
	// Batched SETs and GETs keep the order of the pipeline.
	if got := n.raw("SET x 1\r\nSET y 2\r\nSET x 3\r\nGET x\r\nGET y\r\nSET y 4\r\nGET y\r\nSET z 5 EX 100\r\nGET z\r\nQUIT\r\n", false); got != "+OK\r\n+OK\r\n+OK\r\n$1\r\n3\r\n$1\r\n2\r\n+OK\r\n$1\r\n4\r\n+OK\r\n$1\r\n5\r\n+OK\r\n" {
		t.Errorf("batched pipeline: %q", got)
	}
	n.want("100", "ttl", "z")
	// redis-cli --pipe: 2000 SETs in RESP, then check a few.
	var b strings.Builder
	for i := range 2000 {
		k, v := fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%d", i)
		fmt.Fprintf(&b, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
	}
	cmd := exec.Command(n.cli, "-p", fmt.Sprint(n.port), "--pipe")
	cmd.Stdin = strings.NewReader(b.String())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "errors: 0, replies: 2000") {
		t.Fatalf("redis-cli --pipe: %v\n%s", err, out)
	}
	n.want("value-1999", "get", "key:1999")
	// A pipeline of GETs in one write, answered in order.
	b.Reset()
	var want strings.Builder
	for i := range 2000 {
		k, v := fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%d", i)
		fmt.Fprintf(&b, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(k), k)
		fmt.Fprintf(&want, "$%d\r\n%s\r\n", len(v), v)
	}
	if got := n.raw(b.String()+"QUIT\r\n", false); got != want.String()+"+OK\r\n" {
		t.Errorf("pipelined GETs: %d bytes back, want %d", len(got), want.Len()+5)
	}
	// A request split across many writes.
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", n.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	for _, ch := range "*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$2\r\nok\r\n" {
		io.WriteString(c, string(ch))
	}
	r := bufio.NewReader(c)
	if l, _ := r.ReadString('\n'); l != "+OK\r\n" {
		t.Errorf("split request: %q", l)
	}
	n.want("ok", "get", "split")
}

func TestRedisMalformed(t *testing.T) {
	n := newNode(t)
	n.up()
	defer n.down()
	for _, tc := range []struct{ req, want string }{
		{"*2\r\n$3\r\nGET\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$'\r\n"},
		{"*99999\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"*1\r\n$4\r\nPINGxx", "-ERR Protocol error: bulk string not followed by CRLF\r\n"},
		{"*1\r\n$2000000\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"*-5\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{strings.Repeat("A", 70000), "-ERR Protocol error: too big inline request\r\n"},
		// Replies before the bad request are kept.
		{"PING\r\n*1\r\n$z\r\n", "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"},
		{"GET a\r\nGET b\r\n*1\r\n$z\r\n", "$-1\r\n$-1\r\n-ERR Protocol error: invalid bulk length\r\n"}, // batched GETs first
	} {
		if got := n.raw(tc.req, false); got != tc.want {
			t.Errorf("%.40q: got %q, want %q (then closed)", tc.req, got, tc.want)
		}
	}
	// Large values (1 MB, within the store's and the driver's caps) in a
	// pipeline.
	big := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n" + strings.Repeat("v", 1000000) + "\r\n"
	if got := n.raw(big+big+big+"QUIT\r\n", false); got != "+OK\r\n+OK\r\n+OK\r\n+OK\r\n" {
		t.Errorf("three 1 MB SETs: %.60q", got)
	}
	// The box and the driver still serve.
	n.want("PONG", "ping")
}

// Data survives a restart of the node: the kv driver's bbolt file stays in
// the data directory.
func TestRedisPersistence(t *testing.T) {
	n := newNode(t)
	n.up()
	n.want("OK", "set", "kept", "across restarts")
	n.want("7", "incrby", "counter", "7")
	n.want("OK", "set", "ttl", "v", "ex", "1000")
	n.down()
	n.up()
	defer n.down()
	n.want("across restarts", "get", "kept")
	n.want("8", "incr", "counter")
	if got, _ := strconv.Atoi(n.redis("ttl", "ttl")); got < 900 || got > 1000 {
		t.Errorf("ttl after a restart: %d", got)
	}
}

// The linker checks the tcp driver's box before anything starts: a typo is
// an error at the setting's file:line:col, and nothing listens.
func TestRedisTopologyChecked(t *testing.T) {
	n := newNode(t)
	src, err := os.ReadFile(n.topo)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "box: redis", "box: redsi", 1)
	if err := os.WriteFile(n.topo, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.bin, "up", "--data", n.data, n.topo).CombinedOutput()
	if err == nil {
		t.Fatalf("wbox up accepted a tcp driver calling a missing box:\n%s", out)
	}
	line := 0
	for i, l := range strings.Split(bad, "\n") {
		if strings.Contains(l, "box: redsi") {
			line = i + 1
		}
	}
	want := fmt.Sprintf(`topology.yaml:%d:10: driver "redis-port" box: unknown box "redsi" (did you mean "redis"?)`, line)
	if !strings.Contains(string(out), want) {
		t.Fatalf("wbox up said:\n%s\nwant %s", out, want)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// TestFirstBox runs docs/first-box.md as a new user would, with the real
// binary: the shell block of each language's section, and the blocks of the
// state (--world kv) and HTTP (--world http) sections once per language
// (they are written for Go and say "or --lang c, js, as": the test swaps
// the language). Every line runs as written, from wbox new to wbox up on
// the generated topology and a real call: wbox invoke, or an HTTP GET for
// curl. Only the HTTP port is changed (to a free one, in the generated
// topology.yaml and the URL), so parallel runs do not collide.
func TestFirstBox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds boxes with every toolchain")
	}
	root := testcomponents.RepoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "first-box.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := docBlocks(string(doc))
	bin := wboxBinary(t)
	type run struct{ name, section, lang string }
	var runs []run
	for _, l := range []string{"Go", "C", "JavaScript", "AssemblyScript"} {
		runs = append(runs, run{langCode[l], l, ""})
	}
	for _, l := range []string{"go", "c", "js", "as"} {
		runs = append(runs, run{l + "-kv", "A box with state", l}, run{l + "-http", "An HTTP box", l})
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			lines, ok := blocks[r.section]
			if !ok || len(lines) == 0 {
				t.Fatalf("docs/first-box.md has no shell block under ## %s", r.section)
			}
			if r.lang != "" {
				if sec := string(doc[strings.Index(string(doc), "## "+r.section):]); !strings.Contains(sec[:strings.Index(sec, "```\n\n")], "# or --lang c, js, as") {
					t.Fatalf("## %s does not say it works for every language", r.section)
				}
				lines = swapLang(lines, r.lang)
			}
			fb := &firstBox{t: t, bin: bin, root: root, dir: t.TempDir(), data: t.TempDir(), hits: map[string]int{}}
			for _, line := range lines {
				fb.line(line)
			}
		})
	}
}

var langCode = map[string]string{"Go": "go", "C": "c", "JavaScript": "js", "AssemblyScript": "as"}

// docBlocks returns the command lines of the first ```sh block of every
// "## " section, without comments.
func docBlocks(doc string) map[string][]string {
	out := map[string][]string{}
	section, in := "", false
	for _, l := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(l, "## "):
			section = strings.TrimPrefix(l, "## ")
		case l == "```sh" && out[section] == nil:
			in = true
			out[section] = []string{}
		case strings.HasPrefix(l, "```"):
			in = false
		case in:
			if cmd, _, _ := strings.Cut(l, "#"); strings.TrimSpace(cmd) != "" {
				out[section] = append(out[section], strings.TrimSpace(cmd))
			}
		}
	}
	return out
}

// swapLang turns the Go walk-through into lang's: --lang go and the -go
// suffix of names.
func swapLang(lines []string, lang string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		l = strings.ReplaceAll(l, "--lang go", "--lang "+lang)
		out[i] = regexp.MustCompile(`-go\b`).ReplaceAllString(l, "-"+lang)
	}
	return out
}

// line runs one line of the doc, with what its output must show.
func (fb *firstBox) line(cmd string) {
	t := fb.t
	t.Helper()
	words := wordRE.FindAllString(cmd, -1)
	want := ""
	switch {
	case words[0] == "curl":
		fb.get(strings.Replace(words[1], "127.0.0.1:8080", fb.addr, 1))
		return
	case words[0] == "go":
		want = "ok"
	case words[0] == "node":
		want = "pass 1"
	case len(words) < 2 || words[0] != "wbox":
	case words[1] == "new":
		want = "created " + words[2]
		fb.output(step{cmd, want})
		if strings.Contains(cmd, "--world http") {
			fb.freePort(filepath.Join(fb.dir, words[2], "topology.yaml"))
		}
		return
	case words[1] == "test":
		want = " 0 failed"
	case words[1] == "up":
		want = "wbox is up"
	case words[1] == "invoke" && words[3] == "greet":
		want = `"Hello, ` + strings.Trim(words[4], `'"`) + `!"`
	case words[1] == "invoke" && words[3] == "hit":
		fb.hits[words[4]]++
		want = fmt.Sprint(fb.hits[words[4]])
	}
	fb.output(step{cmd, want})
}

// freePort moves the generated topology's HTTP listener to a free port.
func (fb *firstBox) freePort(topo string) {
	t := fb.t
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fb.addr = l.Addr().String()
	l.Close()
	data, err := os.ReadFile(topo)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("127.0.0.1:8080")) {
		t.Fatalf("%s does not listen on 127.0.0.1:8080 as the doc says:\n%s", topo, data)
	}
	if err := os.WriteFile(topo, bytes.ReplaceAll(data, []byte("127.0.0.1:8080"), []byte(fb.addr)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// get is curl: a GET whose answer must be the box's greeting.
func (fb *firstBox) get(url string) {
	t := fb.t
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("$ curl %s\n%s %s", url, resp.Status, body)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), "Hello from ") || !strings.HasSuffix(string(body), "You asked for /hello\n") {
		t.Fatalf("GET %s: %s %q (%v)", url, resp.Status, body, err)
	}
}

// step is one command of the walk-through: cmd as the doc writes it, and
// what its output must contain.
type step struct {
	cmd  string
	want string
}

type firstBox struct {
	t    *testing.T
	bin  string
	root string
	dir  string // working directory of the next command
	data string // the node's data directory
	addr string // the HTTP listener (host:port) of an http world's topology
	hits map[string]int
}

var wordRE = regexp.MustCompile(`'[^']*'|\S+`)

func (fb *firstBox) do(s step) {
	fb.t.Helper()
	fb.output(s)
}

// output runs one step and returns its output.
func (fb *firstBox) output(s step) string {
	t := fb.t
	t.Helper()
	words := wordRE.FindAllString(s.cmd, -1)
	for i, w := range words {
		words[i] = strings.Trim(w, "'")
	}
	switch words[0] {
	case "cd":
		fb.dir = filepath.Join(fb.dir, words[1])
		return ""
	case "wbox":
		words[0] = fb.bin
		if words[1] == "up" || words[1] == "invoke" {
			words = append(words[:2], append([]string{"--data", fb.data}, words[2:]...)...)
		}
	}
	if words[1] == "up" {
		fb.up(words, s.want)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	cmd.Dir = fb.dir
	// The toolchain is the checkout's node_modules; the box lives in a
	// temporary directory, so say where.
	cmd.Env = append(os.Environ(), "WBOX_NODE_MODULES="+filepath.Join(fb.root, "node_modules"), "GOFLAGS=", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("$ %s (%.1fs)\n%s", s.cmd, time.Since(start).Seconds(), out.String())
	if err != nil {
		if strings.Contains(out.String(), "not found") && strings.Contains(out.String(), "install") && os.Getenv("CI") == "" {
			t.Skipf("toolchain missing: %s", out.String())
		}
		t.Fatalf("%s: %v\n%s", s.cmd, err, out.String())
	}
	if !strings.Contains(out.String(), s.want) {
		t.Fatalf("%s: output lacks %q:\n%s", s.cmd, s.want, out.String())
	}
	return out.String()
}

// up starts `wbox up` in the background until the test ends.
func (fb *firstBox) up(words []string, want string) {
	t := fb.t
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Dir = fb.dir
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Error(err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("wbox up did not stop\nstderr:\n%s", stderr)
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(stdout.String(), want) {
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("wbox up did not come up\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDev runs `wbox dev` on a C box, edits the source and waits for the
// running box to answer with the new code.
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("builds boxes")
	}
	root := testcomponents.RepoRoot(t)
	fb := &firstBox{t: t, bin: wboxBinary(t), root: root, dir: t.TempDir(), data: t.TempDir()}
	fb.do(step{"wbox new hello-dev --lang c", "created"})
	fb.dir = filepath.Join(fb.dir, "hello-dev")
	t.Setenv("WBOX_NODE_MODULES", filepath.Join(root, "node_modules"))
	fb.up([]string{fb.bin, "dev", "--data", fb.data, "--poll", "100ms"}, "wbox dev: watching")
	fb.do(step{`wbox invoke hello-dev greet '"Ada"'`, `"Hello, Ada!"`})

	src := filepath.Join(fb.dir, "hello-dev.c")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, bytes.Replace(data, []byte(`"Hello, "`), []byte(`"Howdy, "`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, _ := exec.Command(fb.bin, "invoke", "--data", fb.data, "hello-dev", "greet", `"Ada"`).CombinedOutput()
		if strings.Contains(string(out), `"Howdy, Ada!"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the box was not redeployed: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

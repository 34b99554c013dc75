package main

import (
	"bytes"
	"context"
	"errors"
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

// TestFirstBox runs docs/first-box.md for every language, as a new user
// would, with the real binary: wbox new, wbox build, wbox test, the
// language's own test, wbox up on the generated topology and a real call
// through wbox invoke. Every command it runs must appear in the doc.
func TestFirstBox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds boxes with every toolchain")
	}
	root := testcomponents.RepoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "first-box.md"))
	if err != nil {
		t.Fatal(err)
	}
	bin := wboxBinary(t)
	for _, lang := range []string{"go", "c", "js", "as", "go-kv", "c-kv", "js-kv", "as-kv", "go-http", "js-http"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			var steps []step
			if l, ok := strings.CutSuffix(lang, "-kv"); ok {
				steps = kvSteps("counter-"+l, l)
			} else if l, ok := strings.CutSuffix(lang, "-http"); ok {
				steps = httpSteps("web-"+l, l)
			} else {
				steps = firstBoxSteps("hello-"+lang, lang)
			}
			for _, s := range steps {
				// The doc spells the kv and http walk-throughs out for Go only.
				if strings.Contains(lang, "-") && !strings.HasPrefix(lang, "go-") {
					break
				}
				if !bytes.Contains(doc, []byte(s.cmd)) {
					t.Errorf("docs/first-box.md lacks the command %q", s.cmd)
				}
			}
			work := t.TempDir()
			data := t.TempDir()
			fb := &firstBox{t: t, bin: bin, root: root, dir: work, data: data}
			for _, s := range steps {
				fb.do(s)
			}
		})
	}
}

// step is one command of the walk-through: cmd as the doc writes it, and
// what its output must contain.
type step struct {
	cmd  string
	want string
}

func firstBoxSteps(name, lang string) []step {
	steps := []step{
		{"wbox new " + name + " --lang " + lang, "created " + name},
		{"cd " + name, ""},
		{"wbox build", ""},
		{"wbox test", "1 passed, 0 failed"},
	}
	switch lang {
	case "go":
		steps = append(steps, step{"go test ./...", "ok"})
	case "js":
		steps = append(steps, step{"node --test", "pass 1"})
	}
	return append(steps,
		step{"wbox up topology.yaml", "wbox is up"},
		step{`wbox invoke ` + name + ` greet '"Ada"'`, `"Hello, Ada!"`},
	)
}

// kvSteps walk through a box with state: --world kv, its import of
// wbox:kv/store bound to the node's kv driver by the generated topology.
func kvSteps(name, lang string) []step {
	return []step{
		{"wbox new " + name + " --lang " + lang + " --world kv", "created " + name},
		{"cd " + name, ""},
		{"wbox build", ""},
		{"wbox test", "1 passed, 0 failed"},
		{"wbox up topology.yaml", "wbox is up"},
		{`wbox invoke ` + name + ` hit '"Ada"'`, "1"},
		{`wbox invoke ` + name + ` hit '"Ada"'`, "2"},
		{`wbox invoke ` + name + ` hit '"Bob"'`, "1"},
	}
}

// httpSteps walk through an HTTP box (--world http): wbox test serves the
// GET requests listed in box.yaml through wbox's wasi:http host. (The
// node does not run HTTP drivers yet, so there is no wbox up here.)
func httpSteps(name, lang string) []step {
	return []step{
		{"wbox new " + name + " --lang " + lang + " --world http", "created " + name},
		{"cd " + name, ""},
		{"wbox build", ""},
		{"wbox test", "ok   GET /hello"},
	}
}

type firstBox struct {
	t    *testing.T
	bin  string
	root string
	dir  string // working directory of the next command
	data string // the node's data directory
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

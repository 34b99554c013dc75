package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// The end-to-end test builds the real binary and drives it as a user would:
// `wbox up` the hello example, call through its arrows, redeploy one box,
// try bad topologies, stop it, bring it back and interrupt it.

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
		dir, err := os.MkdirTemp("", "wbox-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "wbox")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

type e2e struct {
	t    *testing.T
	bin  string
	data string
}

// run runs `wbox ARGS... --data DIR`-style commands (the --data flag goes
// right after the command name) and returns stdout, stderr and the exit
// code.
func (e *e2e) run(args ...string) (string, string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{args[0], "--data", e.data}, args[1:]...)
	cmd := exec.CommandContext(ctx, e.bin, full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("wbox %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), code
}

// ok runs a command that must succeed and returns its stdout.
func (e *e2e) ok(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("wbox %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (e *e2e) status() statusResponse {
	e.t.Helper()
	var st statusResponse
	if err := json.Unmarshal([]byte(e.ok("status", "--json")), &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

func boxByName(t *testing.T, st statusResponse, name string) boxInfo {
	t.Helper()
	for _, b := range st.Boxes {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("no box %q in status %+v", name, st)
	return boxInfo{}
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

// up starts `wbox up FILE` and waits until it says it is up.
func (e *e2e) up(file string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	e.t.Helper()
	cmd := exec.Command(e.bin, "up", "--data", e.data, file)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stdout.String(), "wbox is up") {
		if time.Now().After(deadline) {
			e.t.Fatalf("wbox up did not come up\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, stdout, stderr
}

// waitExit waits for a process to exit and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("wbox up did not exit\nstderr:\n%s", stderr)
	}
	return -1
}

// writeTopology writes the hello example with absolute component paths
// (and edit applied) to dir/name.
func writeTopology(t *testing.T, dir, name string, edit func(string) string) string {
	t.Helper()
	root := testcomponents.RepoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "examples", "hello", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(src), "../../build/components/", filepath.Join(root, "build", "components")+"/")
	if edit != nil {
		s = edit(s)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	for _, c := range []string{"hello-front", "hello-greeter", "hello-counter", "hello-greeter-howdy"} {
		testcomponents.Path(t, c) // skips (or fails under CI) when not built
	}
	e := &e2e{t: t, bin: wboxBinary(t), data: t.TempDir()}
	dir := t.TempDir()
	topo := writeTopology(t, dir, "topology.yaml", nil)

	// Nothing runs yet: clients say so.
	if _, errOut, code := e.run("status"); code != 1 || !strings.Contains(errOut, "no node runs with data directory "+e.data) {
		t.Fatalf("status without a node: exit %d, %s", code, errOut)
	}

	cmd, upOut, upErr := e.up(topo)
	for _, want := range []string{"+ start   counter", "+ start   front", "+ start   greeter", "+ start   kv", "plan: 4 to start"} {
		if !strings.Contains(upOut.String(), want) {
			t.Errorf("wbox up output lacks %q:\n%s", want, upOut)
		}
	}
	if fi, err := os.Stat(filepath.Join(e.data, "wbox.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v, mode %v", err, fi.Mode())
	}

	// One node per data directory; a second one leaves the first alone.
	if _, errOut, code := e.run("node"); code != 1 || !strings.Contains(errOut, "a node already runs with data directory "+e.data) {
		t.Errorf("second node: exit %d, %s", code, errOut)
	}

	// Calls go front -> greeter and front -> counter -> kv.
	if got := e.ok("invoke", "front", "wbox:hello/app@0.1.0#hello", `"Ada"`); got != "{greeting: \"Hello, Ada!\", visits: 1}\n" {
		t.Errorf("hello = %q", got)
	}
	if got := e.ok("invoke", "front", "hello", `"Ada"`); got != "{greeting: \"Hello, Ada!\", visits: 2}\n" {
		t.Errorf("hello again = %q", got)
	}
	if got := e.ok("invoke", "counter", "hit", `"Bob"`); got != "1\n" {
		t.Errorf("hit = %q", got)
	}
	if got := e.ok("invoke", "greeter", "greet", `"Cy"`); got != "\"Hello, Cy!\"\n" {
		t.Errorf("greet = %q", got)
	}
	// Invoke errors.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"invoke", "nobody", "hello"}, `no box "nobody" runs (running: counter, front, greeter)`},
		{[]string{"invoke", "front", "bye"}, `box "front" exports no function "bye" (it exports wbox:hello/app@0.1.0#hello)`},
		{[]string{"invoke", "front", "hello", "42"}, "wbox:hello/app@0.1.0#hello func(name: string) -> visit: "},
	} {
		_, errOut, code := e.run(tc.args...)
		if code != 1 || !strings.HasPrefix(errOut, tc.want) {
			t.Errorf("wbox %s: exit %d, stderr %q, want prefix %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}

	st := e.status()
	if len(st.Boxes) != 3 || len(st.Drivers) != 1 || st.Drivers[0].Name != "kv" || st.Drivers[0].State != "running" {
		t.Fatalf("status = %+v", st)
	}
	for _, b := range st.Boxes {
		if b.State != "running" || len(b.Instances) != 1 {
			t.Errorf("box %+v", b)
		}
	}
	// Two hellos (the call with a bad argument never reached the box), each
	// calling out through both arrows.
	if f := boxByName(t, st, "front"); f.Calls != 2 || f.Errors != 0 || f.CallsOut != 4 {
		t.Errorf("front counters: calls %d, out %d, errors %d", f.Calls, f.CallsOut, f.Errors)
	}
	text := e.ok("status")
	for _, want := range []string{"BOX", "CALLS/S", "front", "running", "DRIVER", "kv"} {
		if !strings.Contains(text, want) {
			t.Errorf("status lacks %q:\n%s", want, text)
		}
	}

	// A redeploy with one box changed restarts only that box.
	v2 := writeTopology(t, dir, "v2.yaml", func(s string) string {
		return strings.Replace(s, "hello-greeter.wasm", "hello-greeter-howdy.wasm", 1)
	})
	plan := e.ok("plan", v2)
	for _, want := range []string{"~ restart greeter  component sha256:", "= keep    counter", "= keep    front", "= keep    kv", "plan: 0 to start, 1 to restart, 0 to rewire, 0 to stop, 3 unchanged"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if after := e.status(); !sameBoxes(st, after, "front", "greeter", "counter") {
		t.Fatal("wbox plan changed what runs")
	}
	deployed := e.ok("deploy", v2)
	if !strings.Contains(deployed, "~ restart greeter") || !strings.HasSuffix(deployed, "deployed\n") {
		t.Errorf("deploy output:\n%s", deployed)
	}
	st2 := e.status()
	if !sameBoxes(st, st2, "front", "counter") {
		t.Errorf("front or counter restarted:\nbefore %+v\nafter  %+v", st.Boxes, st2.Boxes)
	}
	g1, g2 := boxByName(t, st, "greeter"), boxByName(t, st2, "greeter")
	if g1.Instances[0] == g2.Instances[0] || !g2.Started.After(g1.Started) || g1.Digest == g2.Digest {
		t.Errorf("greeter was not restarted: before %+v, after %+v", g1, g2)
	}
	// The counter kept its state in the kv driver, and front now reaches
	// the new greeter.
	if got := e.ok("invoke", "front", "hello", `"Ada"`); got != "{greeting: \"Howdy, Ada!\", visits: 3}\n" {
		t.Errorf("hello after redeploy = %q", got)
	}
	if p := e.ok("plan", v2); !strings.Contains(p, "no changes: 3 boxes and 1 driver keep running") {
		t.Errorf("plan of the running topology:\n%s", p)
	}

	// Bad topologies change nothing and say exactly what is wrong, where.
	for _, tc := range []struct {
		name string
		edit func(string) string
		want string
	}{
		{"unknown box", func(s string) string { return strings.Replace(s, "to: greeter.wbox", "to: greter.wbox", 1) },
			"bad.yaml:39:9: arrow front.wbox:hello/greet@0.1.0 -> greter.wbox:hello/greet@0.1.0: unknown box or driver \"greter\" (did you mean \"greeter\"?) (tasks: kv, front, greeter, counter)\n"},
		{"unknown key", func(s string) string { return strings.Replace(s, "instances: 1", "instance: 1", 1) },
			"bad.yaml:22:5: unknown key \"instance\" in box \"counter\" (did you mean \"instances\"?) (allowed: component, digest, config, instances, limits, restart, wasi, placement, http, fresh)\n"},
		{"unbound import", func(s string) string {
			return strings.Replace(s, "  - from: counter.wbox:kv/store@0.1.0\n    to: kv\n", "", 1)
		}, "bad.yaml:20:3: box \"counter\" imports wbox:kv/store@0.1.0, but no arrow binds it: add an arrow such as {from: counter.wbox:kv/store@0.1.0, to: kv} (kv exports it)\n"},
		{"missing file", func(s string) string { return strings.Replace(s, "hello-front.wasm", "hello-frnot.wasm", 1) },
			"bad.yaml:13:16: box \"front\": component file "},
		{"malformed", func(s string) string { return strings.Replace(s, "  greeter:\n", "  greeter\n", 1) },
			"bad.yaml:16: malformed YAML: "},
	} {
		bad := writeTopology(t, dir, "bad.yaml", tc.edit)
		out, errOut, code := e.run("deploy", bad)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, bad[:len(bad)-len("bad.yaml")]+tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr:\n%s\nwant prefix:\n%s", tc.name, code, out, errOut, tc.want)
		}
	}
	st3 := e.status()
	if !sameBoxes(st2, st3, "front", "greeter", "counter") {
		t.Errorf("a bad deploy changed what runs:\nbefore %+v\nafter  %+v", st2.Boxes, st3.Boxes)
	}
	if got := e.ok("invoke", "front", "hello", `"Ada"`); got != "{greeting: \"Howdy, Ada!\", visits: 4}\n" {
		t.Errorf("hello after bad deploys = %q", got)
	}

	// Following the log shows new events as they happen.
	follow := exec.Command(e.bin, "logs", "--data", e.data, "-f", "front")
	fout := &syncBuffer{}
	follow.Stdout = fout
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	e.ok("stop", "front")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(fout.String(), "box.stopped [front]"); {
		if time.Now().After(deadline) {
			t.Fatalf("logs -f did not show front stopping:\n%s", fout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	follow.Process.Kill()
	follow.Wait()
	e.ok("deploy", v2) // front back

	// Logs: the event log of one box.
	logs := e.ok("logs", "greeter")
	if !strings.Contains(logs, "box.started [greeter]") || !strings.Contains(logs, "box.stopped [greeter]") || strings.Contains(logs, "[front]") {
		t.Errorf("logs greeter:\n%s", logs)
	}
	if _, errOut, code := e.run("logs", "nobody"); code != 1 || !strings.Contains(errOut, `no box or driver "nobody"`) {
		t.Errorf("logs nobody: %d %s", code, errOut)
	}

	// Stopping one box, then the node.
	if _, errOut, code := e.run("stop", "greeter"); code != 1 || !strings.Contains(errOut, "stop failed, nothing changed") {
		t.Errorf("stopping a box others have arrows to: exit %d, %s", code, errOut)
	}
	if out := e.ok("stop", "front"); out != "stopped front\n" {
		t.Errorf("stop front: %q", out)
	}
	if st := e.status(); len(st.Boxes) != 2 {
		t.Errorf("after stop front: %+v", st.Boxes)
	}
	if out := e.ok("stop"); out != "node stopped\n" {
		t.Errorf("stop: %q", out)
	}
	if code := waitExit(t, cmd, upErr); code != 0 {
		t.Errorf("wbox up exited %d\n%s", code, upErr)
	}
	if _, err := os.Stat(filepath.Join(e.data, "wbox.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}

	// Up again on the same data directory: the kv driver's file kept the
	// counts. Ctrl-C stops it cleanly.
	cmd, _, upErr = e.up(topo)
	if got := e.ok("invoke", "front", "hello", `"Ada"`); got != "{greeting: \"Hello, Ada!\", visits: 5}\n" {
		t.Errorf("hello after a node restart = %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd, upErr); code != 0 {
		t.Errorf("wbox up exited %d after SIGINT\n%s", code, upErr)
	}
	if !strings.Contains(upErr.String(), "node stopped") {
		t.Errorf("no clean stop in the log:\n%s", upErr)
	}
}

// sameBoxes reports whether the named boxes run the same instances, started
// at the same time, in both statuses.
func sameBoxes(a, b statusResponse, names ...string) bool {
	find := func(st statusResponse, n string) (boxInfo, bool) {
		for _, x := range st.Boxes {
			if x.Name == n {
				return x, true
			}
		}
		return boxInfo{}, false
	}
	for _, n := range names {
		x, ok1 := find(a, n)
		y, ok2 := find(b, n)
		if !ok1 || !ok2 || strings.Join(x.Instances, ",") != strings.Join(y.Instances, ",") || !x.Started.Equal(y.Started) || x.Digest != y.Digest {
			return false
		}
	}
	return true
}

func TestUpBadTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	testcomponents.Path(t, "hello-front")
	e := &e2e{t: t, bin: wboxBinary(t), data: t.TempDir()}
	bad := writeTopology(t, t.TempDir(), "topology.yaml", func(s string) string { return strings.Replace(s, "kind: kv", "kind: kvs", 1) })
	out, errOut, code := e.run("up", bad)
	kinds := slices.Sorted(maps.Keys(drivers()))
	want := bad + `:34:11: driver "kv": unknown kind "kvs" (did you mean "kv"?) (known kinds: ` + strings.Join(kinds, ", ") + ")\n"
	if code != 1 || !strings.Contains(errOut, want) || strings.Contains(out, "wbox is up") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant:\n%s", code, out, errOut, want)
	}
	if _, err := os.Stat(filepath.Join(e.data, "wbox.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}

// TestUpRunawayBox: a box looping forever behind `wbox up` is stopped by its
// call timeout, the caller gets an error, and the node keeps serving. (The
// node once loaded components into a runtime that could not interrupt
// guests: the loop then froze the whole process.)
func TestUpRunawayBox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	faulty := testcomponents.Path(t, "faulty")
	e := &e2e{t: t, bin: wboxBinary(t), data: t.TempDir()}
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	os.WriteFile(topo, []byte("boxes:\n  loopy:\n    component: "+faulty+"\n    limits:\n      call-timeout: 300ms\n    restart:\n      backoff: 10ms\n"), 0o644)
	cmd, _, stderr := e.up(topo)
	start := time.Now()
	_, errOut, code := e.run("invoke", "loopy", "spin")
	if code == 0 || !strings.Contains(errOut, "timeout") && !strings.Contains(errOut, "deadline") {
		t.Errorf("invoke spin: exit %d, stderr %q; want a timeout error", code, errOut)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("invoke spin took %v", took)
	}
	// The box restarts and serves again.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _, code := e.run("invoke", "loopy", "add", "2", "3")
		if code == 0 && out == "5\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("box did not serve again after the timeout\n%s", stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.ok("stop")
	waitExit(t, cmd, stderr)
}

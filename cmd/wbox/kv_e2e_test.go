package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// TestKVPersistsAcrossNodeRestart drives the kv driver through the real
// binary: data written through wasi:keyvalue by the kv-probe box, the node
// stopped with `wbox stop`, started again on the same data directory, the
// data read back; then the node is killed (SIGKILL) right after writes
// were acknowledged, and they are there after a restart. The box's
// wasi:logging lines show in `wbox logs`.
func TestKVPersistsAcrossNodeRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wbox binary")
	}
	probe := testcomponents.Path(t, "kv-probe")
	e := &e2e{t: t, bin: wboxBinary(t), data: t.TempDir()}
	topo := filepath.Join(t.TempDir(), "topology.yaml")
	err := os.WriteFile(topo, []byte(`
boxes:
  app: {component: `+probe+`}
drivers:
  kv: {kind: kv}
arrows:
  - {from: app.wasi:keyvalue/store, to: kv}
  - {from: app.wasi:keyvalue/atomics, to: kv}
  - {from: app.wasi:keyvalue/batch, to: kv}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}

	cmd, _, upErr := e.up(topo)
	if got := e.ok("invoke", "app", "set", `"b"`, `"k"`, `"kept"`); got != "ok\n" {
		t.Errorf("set = %q", got)
	}
	if got := e.ok("invoke", "app", "incr", `"b"`, `"n"`, "5"); got != "ok(5)\n" {
		t.Errorf("incr = %q", got)
	}
	e.ok("invoke", "app", "log", `"warn"`, `"probe"`, `"disk almost full"`)
	if logs := e.ok("logs", "app"); !strings.Contains(logs, "disk almost full") {
		t.Errorf("wbox logs app lacks the logged line:\n%s", logs)
	}
	if out := e.ok("stop"); out != "node stopped\n" {
		t.Fatalf("stop = %q", out)
	}
	if code := waitExit(t, cmd, upErr); code != 0 {
		t.Fatalf("wbox up exited %d\n%s", code, upErr)
	}

	cmd, _, _ = e.up(topo)
	if got := e.ok("invoke", "app", "get", `"b"`, `"k"`); got != "ok(some(\"kept\"))\n" {
		t.Errorf("get after the restart = %q", got)
	}
	// The number is stored as decimal text.
	if got := e.ok("invoke", "app", "get", `"b"`, `"n"`); got != "ok(some(\"5\"))\n" {
		t.Errorf("the counter as text = %q", got)
	}
	if got := e.ok("invoke", "app", "incr", `"b"`, `"n"`, "1"); got != "ok(6)\n" {
		t.Errorf("incr after the restart = %q", got)
	}

	// A crash: every acknowledged write is on disk.
	e.ok("invoke", "app", "set-many", `"b"`, `[("x", "1"), ("y", "2")]`)
	if got := e.ok("invoke", "app", "incr", `"b"`, `"n"`, "1"); got != "ok(7)\n" {
		t.Errorf("incr before the crash = %q", got)
	}
	cmd.Process.Kill()
	cmd.Wait()
	e.up(topo)
	if got := e.ok("invoke", "app", "get-many", `"b"`, `["n", "x", "y"]`); got != "ok([some(\"7\"), some(\"1\"), some(\"2\")])\n" {
		t.Errorf("after SIGKILL and a restart: %q", got)
	}
	e.ok("stop")
}

package kv_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/internal/testnats"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testnats.LeakOptions...)
}

// node is a kernel with the kv driver kind and a linker, running the
// topologies a test deploys.
type node struct {
	t   *testing.T
	k   *kernel.Kernel
	l   *linker.Linker
	dir string // topology files

	jetstream bool // its kv drivers say backend: jetstream (deploy adds it)
	maxKey    int  // the backend's key limit
	maxValue  int  // the backend's value limit
}

func newNode(t *testing.T, dataDir string) *node {
	t.Helper()
	return newNodeWith(t, dataDir, kv.New)
}

func newNodeWith(t *testing.T, dataDir string, factory kernel.DriverFactory) *node {
	t.Helper()
	cache, _ := os.UserCacheDir()
	k, err := kernel.New(kernel.Config{
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		DataDir: dataDir,
		Drivers: map[string]kernel.DriverFactory{kv.Kind: factory},
		// TestLoggingRateLimit counts every line.
		EventBuffer: 1 << 14,
		CacheDir:    filepath.Join(cache, "wbox", "test-compiled"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.Close(ctx); err != nil {
			t.Errorf("kernel Close: %v", err)
		}
	})
	rt, err := k.Runtime(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &node{t: t, k: k, l: linker.New(linker.Options{Runtime: rt, Drivers: map[string]kernel.DriverFactory{kv.Kind: factory}}), dir: t.TempDir(),
		maxKey: kv.MaxKeyBytes, maxValue: kv.MaxValueBytes}
}

// deploy links a topology (PROBE stands for the kv-probe component's path)
// and applies it; it returns the linker's error, if any.
func (n *node) deploy(yaml string) error {
	n.t.Helper()
	yaml = strings.ReplaceAll(yaml, "PROBE", testcomponents.Path(n.t, "kv-probe"))
	if n.jetstream {
		yaml = strings.ReplaceAll(yaml, "{kind: kv}", "{kind: kv, backend: jetstream}")
		yaml = strings.ReplaceAll(yaml, "    kind: kv\n", "    kind: kv\n    backend: jetstream\n")
	}
	path := filepath.Join(n.dir, "topology.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		n.t.Fatal(err)
	}
	topo, err := linker.ParseFile(path)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec, err := n.l.Link(ctx, topo)
	if err != nil {
		return err
	}
	return n.k.Apply(ctx, linker.Diff(spec, n.k.Snapshot()))
}

func (n *node) mustDeploy(yaml string) {
	n.t.Helper()
	if err := n.deploy(yaml); err != nil {
		n.t.Fatal(err)
	}
}

// call calls the probe function fn of box and returns the ok value of its
// result<T, string>, failing the test on err.
func (n *node) call(box, fn string, args ...any) any {
	n.t.Helper()
	v, errText := n.try(box, fn, args...)
	if errText != "" {
		n.t.Fatalf("%s %s%v: err(%q)", box, fn, args, errText)
	}
	return v
}

// try calls the probe and returns its ok value or its error text.
func (n *node) try(box, fn string, args ...any) (any, string) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := n.k.Call(ctx, box, "wbox:kv-probe/probe@0.1.0#"+fn, args...)
	if err != nil {
		n.t.Fatalf("%s %s: %v", box, fn, err)
	}
	if len(res) == 0 {
		return nil, ""
	}
	r := res[0].(value.Variant)
	if r.Case == 1 {
		return nil, r.Value.(string)
	}
	return r.Value, ""
}

// optString turns an option<string> into its string, or "<none>".
func optString(v any) string {
	o := v.(value.Variant)
	if o.Case == 0 {
		return "<none>"
	}
	return o.Value.(string)
}

const oneBox = `
boxes:
  app: {component: PROBE}
drivers:
  kv: {kind: kv}
arrows:
  - {from: app.wasi:keyvalue/store, to: kv}
  - {from: app.wasi:keyvalue/atomics, to: kv}
  - {from: app.wasi:keyvalue/batch, to: kv}
`

func TestStoreThroughKernel(t *testing.T) { forBackends(t, testStoreThroughKernel) }

func testStoreThroughKernel(t *testing.T, n *node) {
	n.mustDeploy(oneBox)

	if got := optString(n.call("app", "get", "b", "k")); got != "<none>" {
		t.Fatalf("get of a missing key = %q", got)
	}
	n.call("app", "set", "b", "k", "v1")
	if got := optString(n.call("app", "get", "b", "k")); got != "v1" {
		t.Fatalf("get = %q", got)
	}
	n.call("app", "set", "b", "empty", "")
	if got := optString(n.call("app", "get", "b", "empty")); got != "" {
		t.Fatalf("get of an empty value = %q", got)
	}
	if !n.call("app", "exists", "b", "k").(bool) || n.call("app", "exists", "other", "k").(bool) {
		t.Fatal("exists is wrong: buckets must be separate")
	}
	n.call("app", "delete", "b", "k")
	n.call("app", "delete", "b", "never-there")
	if n.call("app", "exists", "b", "k").(bool) {
		t.Fatal("deleted key exists")
	}

	// list-keys pages (1000 keys a page): the probe follows the cursor.
	var pairs []any
	for i := range 2500 {
		if len(pairs) == kv.MaxBatchKeys {
			n.call("app", "set-many", "many", pairs)
			pairs = nil
		}
		pairs = append(pairs, []any{fmt.Sprintf("k%05d", i), fmt.Sprint(i)})
	}
	n.call("app", "set-many", "many", pairs)
	keys := n.call("app", "list-all", "many").([]any)
	if len(keys) != 2500 || keys[0] != "k00000" || keys[2499] != "k02499" {
		t.Fatalf("list-all: %d keys, first %v", len(keys), keys[:min(3, len(keys))])
	}
	for i, k := range keys {
		if k != fmt.Sprintf("k%05d", i) {
			t.Fatalf("key %d = %v", i, k)
		}
	}
	if got := n.call("app", "list-all", "nothing").([]any); len(got) != 0 {
		t.Fatalf("list-all of an empty bucket = %v", got)
	}

	// Batch.
	got := n.call("app", "get-many", "many", []any{"k00007", "nope", "k02000"}).([]any)
	if optString(got[0]) != "7" || optString(got[1]) != "<none>" || optString(got[2]) != "2000" {
		t.Fatalf("get-many = %v", got)
	}
	n.call("app", "delete-many", "many", []any{"k00007", "nope"})
	if n.call("app", "exists", "many", "k00007").(bool) {
		t.Fatal("delete-many left the key")
	}
	tooMany := make([]any, kv.MaxBatchKeys+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprint(i)
	}
	if _, e := n.try("app", "get-many", "many", tooMany); !strings.Contains(e, "a batch has at most 1000") {
		t.Fatalf("an oversized batch: %q", e)
	}

	// Limits and bad identifiers.
	if _, e := n.try("app", "set", "b", strings.Repeat("k", n.maxKey+1), "v"); !strings.Contains(e, fmt.Sprintf("keys are at most %d bytes", n.maxKey)) {
		t.Fatalf("a long key: %q", e)
	}
	if _, e := n.try("app", "set", "b", "big", strings.Repeat("v", n.maxValue+1)); !strings.Contains(e, fmt.Sprintf("values are at most %d bytes", n.maxValue)) {
		t.Fatalf("a big value: %q", e)
	}
	if _, e := n.try("app", "get", "b", ""); !strings.Contains(e, "empty key") {
		t.Fatalf("an empty key: %q", e)
	}
	if _, e := n.try("app", "get", "", "k"); e != "open: no-such-store" {
		t.Fatalf("an empty identifier: %q", e)
	}
	if _, e := n.try("app", "get", strings.Repeat("b", 256), "k"); e != "open: no-such-store" {
		t.Fatalf("a long identifier: %q", e)
	}
}

func TestNamespaces(t *testing.T) { forBackends(t, testNamespaces) }

func testNamespaces(t *testing.T, n *node) {
	var arrows strings.Builder
	for _, b := range []string{"alone", "other", "web", "worker"} {
		for _, i := range []string{"store", "atomics", "batch"} {
			fmt.Fprintf(&arrows, "  - {from: %s.wasi:keyvalue/%s, to: kv}\n", b, i)
		}
	}
	// counter (the hello example's C box) uses wbox:kv/store@0.1.0: the
	// bucket "default" of its namespace, which it shares with web.
	n.mustDeploy(`
boxes:
  alone: {component: PROBE}
  other: {component: PROBE}
  web: {component: PROBE}
  worker: {component: PROBE}
  counter: {component: ` + testcomponents.Path(t, "hello-counter") + `}
drivers:
  kv:
    kind: kv
    namespaces: {shop: [web, worker, counter]}
arrows:
  - {from: counter.wbox:kv/store, to: kv}
` + arrows.String())

	n.call("alone", "set", "b", "k", "alone's")
	if got := optString(n.call("other", "get", "b", "k")); got != "<none>" {
		t.Fatalf("box other sees box alone's key: %q", got)
	}
	n.call("web", "set", "b", "k", "shop's")
	if got := optString(n.call("worker", "get", "b", "k")); got != "shop's" {
		t.Fatalf("worker does not see web's key in their shared namespace: %q", got)
	}
	if got := optString(n.call("alone", "get", "b", "k")); got != "alone's" {
		t.Fatalf("the shared namespace overwrote alone's key: %q", got)
	}
	n.call("worker", "incr", "b", "n", int64(2))
	if got := n.call("web", "incr", "b", "n", int64(3)).(int64); got != 5 {
		t.Fatalf("shared counter = %d", got)
	}

	// wbox:kv/store and wasi:keyvalue see the same data.
	ctx := context.Background()
	res, err := n.k.Call(ctx, "counter", "wbox:hello/counter@0.1.0#hit", "Ada")
	if err != nil {
		t.Fatal(err)
	}
	keys := n.call("web", "list-all", kv.DefaultBucket).([]any)
	if len(keys) != 1 {
		t.Fatalf("the counter's keys, seen by web: %v (hit returned %v)", keys, res)
	}
	if got := optString(n.call("worker", "get", kv.DefaultBucket, keys[0])); got != "1" {
		t.Fatalf("the counter's value, seen by worker: %q", got)
	}
	n.call("web", "set", kv.DefaultBucket, keys[0], "41")
	if res, err := n.k.Call(ctx, "counter", "wbox:hello/counter@0.1.0#hit", "Ada"); err != nil || fmt.Sprint(res[0]) != "42" {
		t.Fatalf("hit after web's set = %v, %v", res, err)
	}
}

func TestAtomicsConcurrentCallers(t *testing.T) { forBackends(t, testAtomicsConcurrentCallers) }

func testAtomicsConcurrentCallers(t *testing.T, n *node) {
	n.mustDeploy(strings.Replace(oneBox, "app: {component: PROBE}", "app: {component: PROBE, instances: 4}", 1))
	const callers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan string, callers*each)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				res, err := n.k.Call(ctx, "app", "wbox:kv-probe/probe@0.1.0#incr", "b", "hits", int64(1))
				cancel()
				if err != nil {
					errs <- err.Error()
				} else if r := res[0].(value.Variant); r.Case != 0 {
					errs <- r.Value.(string)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// The number is stored as its decimal text.
	if got := optString(n.call("app", "get", "b", "hits")); got != fmt.Sprint(callers*each) {
		t.Fatalf("after %d increments: %q", callers*each, got)
	}
	if got := n.call("app", "incr", "b", "hits", int64(-320)).(int64); got != 0 {
		t.Fatalf("decrement = %d", got)
	}
	n.call("app", "set", "b", "text", "five")
	if _, e := n.try("app", "incr", "b", "text", int64(1)); !strings.Contains(e, "not a decimal integer") {
		t.Fatalf("increment of text: %q", e)
	}
	n.call("app", "set", "b", "max", "9223372036854775807")
	if _, e := n.try("app", "incr", "b", "max", int64(1)); !strings.Contains(e, "overflows") {
		t.Fatalf("overflow: %q", e)
	}
}

func TestCompareAndSwapConflict(t *testing.T) { forBackends(t, testCompareAndSwapConflict) }

func testCompareAndSwapConflict(t *testing.T, n *node) {
	n.mustDeploy(oneBox)
	n.call("app", "set", "b", "k", "original")
	if got := n.call("app", "cas-race", "b", "k", "interloper", "mine"); got != "conflict current=interloper; swapped" {
		t.Fatalf("cas-race = %q", got)
	}
	if got := optString(n.call("app", "get", "b", "k")); got != "mine" {
		t.Fatalf("after the swap: %q", got)
	}
	// On a key that did not exist when cas.new ran.
	if got := n.call("app", "cas-race", "b", "fresh", "interloper", "mine"); got != "conflict current=interloper; swapped" {
		t.Fatalf("cas-race on a new key = %q", got)
	}
}

// The three wasi:keyvalue arrows of a box must reach the same driver: a
// bucket opened through one driver means nothing to another. The linker
// refuses such a topology; a plan that bypasses it fails the call, saying
// why.
func TestArrowsToTwoDrivers(t *testing.T) {
	n := newNode(t, t.TempDir())
	err := n.deploy(`
boxes:
  app: {component: PROBE}
drivers:
  kv: {kind: kv}
  kv2: {kind: kv}
arrows:
  - {from: app.wasi:keyvalue/store, to: kv}
  - {from: app.wasi:keyvalue/atomics, to: kv2}
  - {from: app.wasi:keyvalue/batch, to: kv}
`)
	want := `topology.yaml:9:43: arrow app.wasi:keyvalue/atomics -> kv2: wasi:keyvalue/atomics@0.2.0-draft2 uses resource "bucket" of wasi:keyvalue/store@0.2.0-draft2, whose arrow (line 8) goes to "kv": both must go to the same task`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("linker error = %v\nwant %s", err, want)
	}

	ctx := context.Background()
	rt, err := n.k.Runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(testcomponents.Path(t, "kv-probe"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	err = n.k.Apply(ctx, &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "kv", Kind: kv.Kind}, {Name: "kv2", Kind: kv.Kind}},
		Start: []kernel.BoxSpec{{Name: "app", Component: c, Instances: 1, Arrows: []kernel.Arrow{
			{Import: kv.StoreIface, Target: "kv", Export: kv.StoreIface},
			{Import: kv.AtomicsIface, Target: "kv2", Export: kv.AtomicsIface},
			{Import: kv.BatchIface, Target: "kv", Export: kv.BatchIface},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, e := n.try("app", "incr", "b", "k", int64(1)); !strings.Contains(e, "must all go to the same kv driver") {
		t.Fatalf("increment through another driver: %q", e)
	}
	n.call("app", "set-many", "b", []any{[]any{"k", "v"}}) // batch and store share kv: fine
}

// wasi:logging reaches the event log (what `wbox logs` shows) as box.log
// events tagged with the box, its level and context.
func TestLoggingEvents(t *testing.T) {
	n := newNode(t, t.TempDir())
	n.mustDeploy(oneBox)
	seq := uint64(0)
	if evs := n.k.Events(0, ""); len(evs) > 0 {
		seq = evs[len(evs)-1].Seq
	}
	ctx := context.Background()
	for _, lv := range []string{"trace", "info", "critical"} {
		if _, err := n.k.Call(ctx, "app", "wbox:kv-probe/probe@0.1.0#log", lv, "ctx-"+lv, "hello at "+lv); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range n.k.Events(seq, "app") {
		if e.Kind == kernel.EvLog {
			got = append(got, fmt.Sprintf("%s %s %s %s %v", e.Task, e.Attrs["level"], e.Attrs["context"], e.Msg, e.Level))
		}
	}
	want := []string{
		"app trace ctx-trace hello at trace DEBUG-4",
		"app info ctx-info hello at info INFO",
		"app critical ctx-critical hello at critical ERROR+4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPersistenceAcrossKernels(t *testing.T) {
	data := t.TempDir()
	n := newNode(t, data)
	n.mustDeploy(oneBox)
	n.call("app", "set", "b", "k", "kept")
	n.call("app", "incr", "b", "n", int64(7))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.k.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "drivers", "kv", kv.DefaultFile)); err != nil {
		t.Fatal(err)
	}
	n2 := newNode(t, data)
	n2.mustDeploy(oneBox)
	if got := optString(n2.call("app", "get", "b", "k")); got != "kept" {
		t.Fatalf("after a restart: %q", got)
	}
	if got := n2.call("app", "incr", "b", "n", int64(1)).(int64); got != 8 {
		t.Fatalf("counter after a restart: %d", got)
	}
}

func TestSettings(t *testing.T) {
	for want, settings := range map[string]map[string]any{
		"unknown setting \"flie\"":       {"flie": "x"},
		"relative file name":             {"file": "../x"},
		"relative file name inside":      {"file": "/etc/x"},
		"want a mapping":                 {"namespaces": []any{"a"}},
		"want a list of box names":       {"namespaces": map[string]any{"shop": "web"}},
		`box "web" is in two namespaces`: {"namespaces": map[string]any{"a": []any{"web"}, "b": []any{"web"}}},
		"without '/'":                    {"namespaces": map[string]any{"a/b": []any{"web"}}},
	} {
		if _, err := kv.New(kernel.DriverSpec{Name: "kv", Kind: kv.Kind, Settings: settings}, kernel.DriverEnv{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err = %v, want %q", settings, err, want)
		}
	}
	nat, err := kv.New(kernel.DriverSpec{Name: "kv", Kind: kv.Kind, Settings: map[string]any{"namespaces": map[string]any{"shop": []any{"web"}}}}, kernel.DriverEnv{})
	if err != nil {
		t.Fatal(err)
	}
	d := nat.(*kv.Driver)
	if d.Namespace("web") != "shared/shop" || d.Namespace("shop") != "box/shop" {
		t.Fatalf("namespaces: web %q, shop %q", d.Namespace("web"), d.Namespace("shop"))
	}
	for _, iface := range []string{kv.Interface, kv.StoreIface, kv.AtomicsIface, kv.BatchIface} {
		if d.Exports()[iface] == nil {
			t.Errorf("no export %s", iface)
		}
	}
}

// The data of the driver before bbolt (JSON in the file the setting file
// names) is imported once: wbox:kv/store sees it, the JSON is kept aside.
func TestImportsOldJSONFile(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "drivers", "kv")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kv.json"), []byte(`{"counter": {"visits/Ada": "41"}, "gone": {"x": "y"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	n := newNode(t, data)
	n.mustDeploy(`
boxes:
  counter: {component: ` + testcomponents.Path(t, "hello-counter") + `}
drivers:
  kv: {kind: kv, file: kv.json}
arrows:
  - {from: counter.wbox:kv/store, to: kv}
`)
	res, err := n.k.Call(context.Background(), "counter", "wbox:hello/counter@0.1.0#hit", "Ada")
	if err != nil || fmt.Sprint(res[0]) != "42" {
		t.Fatalf("hit after the import = %v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kv.json.imported")); err != nil {
		t.Fatal(err)
	}
}

// A redeploy that changes the driver's settings restarts it: the new driver
// starts beside the old one and waits for it to let go of the file; the box
// is rebound to it and its calls wait for the file to open.
func TestSettingsChangeRestartsOnSameFile(t *testing.T) {
	n := newNode(t, t.TempDir())
	n.mustDeploy(oneBox)
	n.call("app", "set", "b", "k", "own namespace")
	n.mustDeploy(strings.Replace(oneBox, "kv: {kind: kv}", "kv: {kind: kv, namespaces: {shop: [app]}}", 1))
	if got := optString(n.call("app", "get", "b", "k")); got != "<none>" {
		t.Fatalf("in the shared namespace: %q", got)
	}
	n.call("app", "set", "b", "k", "shop's")
	n.mustDeploy(oneBox)
	if got := optString(n.call("app", "get", "b", "k")); got != "own namespace" {
		t.Fatalf("back in its own namespace: %q", got)
	}
	if st := n.k.Snapshot(); len(st.Drivers) != 1 || st.Drivers["kv"].State != kernel.StateRunning || st.Drivers["kv"].Restarts != 0 {
		t.Fatalf("drivers: %+v", st.Drivers)
	}
}

// Compare-and-swap loops from 8 callers on 4 instances lose no update: a
// swap succeeds only over the value its cas saw.
func TestCompareAndSwapConcurrentCallers(t *testing.T) {
	forBackends(t, testCompareAndSwapConcurrentCallers)
}

func testCompareAndSwapConcurrentCallers(t *testing.T, n *node) {
	n.mustDeploy(strings.Replace(oneBox, "app: {component: PROBE}", "app: {component: PROBE, instances: 4}", 1))
	const callers, each = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	var swaps uint32
	errs := make(chan string, callers*each)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				res, err := n.k.Call(ctx, "app", "wbox:kv-probe/probe@0.1.0#cas-add", "b", "sum", int64(2))
				cancel()
				switch {
				case err != nil:
					errs <- err.Error()
				case res[0].(value.Variant).Case != 0:
					errs <- res[0].(value.Variant).Value.(string)
				default:
					mu.Lock()
					swaps += res[0].(value.Variant).Value.(uint32)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if got := optString(n.call("app", "get", "b", "sum")); got != fmt.Sprint(2*callers*each) {
		t.Fatalf("after %d cas additions: %q", callers*each, got)
	}
	t.Logf("%d additions took %d swaps", callers*each, swaps)
}

// A box logging faster than the limit loses lines, and each line that
// gets through after a loss says how many were dropped since the previous
// one: every line is accounted for.
func TestLoggingRateLimit(t *testing.T) {
	n := newNode(t, t.TempDir())
	n.mustDeploy(oneBox)
	ctx := context.Background()
	if _, err := n.k.Call(ctx, "app", "wbox:kv-probe/probe@0.1.0#log-many", uint32(5000)); err != nil {
		t.Fatal(err)
	}
	// Until a line logged after the burst gets through.
	for range 1000 {
		if _, err := n.k.Call(ctx, "app", "wbox:kv-probe/probe@0.1.0#log", "info", "", "after"); err != nil {
			t.Fatal(err)
		}
		evs := n.k.Events(0, "app")
		if e := evs[len(evs)-1]; e.Kind == kernel.EvLog && e.Msg == "after" {
			break
		}
	}
	lines, dropped, afters := 0, 0, 0
	for _, e := range n.k.Events(0, "app") {
		if e.Kind != kernel.EvLog {
			continue
		}
		if e.Msg == "after" {
			afters++
		} else {
			lines++
		}
		if d := e.Attrs["dropped"]; d != "" {
			var k int
			fmt.Sscan(d, &k)
			dropped += k
		}
	}
	if lines < 1000 || lines >= 5000 || afters == 0 {
		t.Fatalf("%d of 5000 lines logged at once got through (and %d after); want the burst (1000) and not all", lines, afters)
	}
	// Each "after" call logged one line: those dropped are in the count too.
	if lines+dropped < 5000 {
		t.Fatalf("%d lines + %d counted as dropped < 5000 logged", lines, dropped)
	}
}

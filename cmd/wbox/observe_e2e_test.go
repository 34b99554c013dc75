package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/internal/testcomponents"
)

// chromium returns Debian's chromium (the test skips without it, and
// fails under CI, where .ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (.ci/run installs it)")
	}
	t.Skip("chromium is not installed: apt-get install chromium")
	return ""
}

// headless runs chromium headless on url with args (--dump-dom or
// --screenshot=FILE) and returns its stdout.
func headless(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	full := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--window-size=1300,760", "--virtual-time-budget=2500"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(full, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// upObserved starts `wbox up` on the hello example with the dashboard
// and the metrics endpoint on free ports of 127.0.0.1 and returns their
// addresses and the dashboard's token.
func upObserved(t *testing.T, e *e2e, extra ...string) (dash, metrics, token string) {
	t.Helper()
	topo := writeTopology(t, t.TempDir(), "topology.yaml", nil)
	args := append([]string{"up", "--data", e.data, "--dashboard", "127.0.0.1:0", "--metrics", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(e.bin, append(args, topo)...)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stdout.String(), "wbox is up") {
		if time.Now().After(deadline) {
			t.Fatalf("wbox up did not come up\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(e.data, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	return read("dashboard.addr"), read("metrics.addr"), read("dashboard.token")
}

// load calls front (and through it every arrow of the example) through
// the management API until the returned function stops it.
func load(t *testing.T, data string) (stop func() int) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	c := newClient(data)
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				var out invokeResponse
				err := c.do(ctx, "POST", "/v1/invoke", invokeRequest{Box: "front", Export: "wbox:hello/app@0.1.0#hello", Args: []string{`"Ada"`}}, &out)
				if err == nil {
					mu.Lock()
					n++
					mu.Unlock()
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	return func() int { cancel(); wg.Wait(); return n }
}

var (
	arrowRe = regexp.MustCompile(`<g class="arrow[^"]*" data-from="([^"]+)" data-target="([^"]+)" data-import="[^"]*" data-calls="(\d+)" data-errors="(\d+)" data-cps="([\d.]+)">`)
	boxRe   = regexp.MustCompile(`<g class="box[^"]*" data-name="([^"]+)" data-state="([^"]+)" data-kind="([^"]+)" data-restarts="(\d+)" data-calls="(\d+)"`)
)

type drawnArrow struct {
	calls uint64
	cps   float64
}

func parseArrows(t *testing.T, dom string) map[string]drawnArrow {
	t.Helper()
	out := map[string]drawnArrow{}
	for _, m := range arrowRe.FindAllStringSubmatch(dom, -1) {
		calls, _ := strconv.ParseUint(m[3], 10, 64)
		cps, _ := strconv.ParseFloat(m[5], 64)
		out[m[1]+"->"+m[2]] = drawnArrow{calls, cps}
	}
	return out
}

// TestDashboardInChromium loads the dashboard of `wbox up
// examples/hello` in headless Chromium: the three boxes and the kv driver
// are drawn running, in the node's group, with the three arrows between
// them; under load the arrows' call counts grow and their calls/s are
// positive; #box=front shows the box's WIT, config and logs; without the
// token nothing is served; the plan view's API answers through the
// dashboard; and the metrics endpoint is scraped over 127.0.0.1.
func TestDashboardInChromium(t *testing.T) {
	testcomponents.Path(t, "hello-front")
	chrome := chromium(t)
	e := &e2e{t: t, bin: wboxBinary(t), data: t.TempDir()}
	dash, metricsAddr, token := upObserved(t, e)
	url := "http://" + dash + "/?token=" + token

	// No token, no dashboard.
	for _, path := range []string{"/", "/ui/graph", "/v1/status", "/metrics"} {
		resp, err := http.Get("http://" + dash + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %s, want 401", path, resp.Status)
		}
	}

	stop := load(t, e.data)
	time.Sleep(2500 * time.Millisecond) // the dashboard's rates sample every second
	dom1 := headless(t, chrome, url, "--dump-dom")
	boxes := boxRe.FindAllStringSubmatch(dom1, -1)
	got := map[string]string{}
	for _, m := range boxes {
		got[m[1]] = m[2] + " " + m[3]
	}
	want := map[string]string{"front": "running box", "greeter": "running box", "counter": "running box", "kv": "running kv"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("boxes drawn: %v, want %v", got, want)
	}
	if !strings.Contains(dom1, `class="group" data-node=`) {
		t.Error("no node group drawn")
	}
	a1 := parseArrows(t, dom1)
	for _, k := range []string{"front->greeter", "front->counter", "counter->kv"} {
		a, ok := a1[k]
		if !ok {
			t.Fatalf("arrow %s not drawn; drawn: %v\n%s", k, a1, dom1)
		}
		if a.calls == 0 || a.cps <= 0 {
			t.Errorf("arrow %s under load: %d calls, %.2f calls/s; want both > 0", k, a.calls, a.cps)
		}
	}
	if len(a1) != 3 {
		t.Errorf("arrows drawn: %v, want 3", a1)
	}
	time.Sleep(1500 * time.Millisecond)
	dom2 := headless(t, chrome, url+"#box=front", "--dump-dom")
	calls := stop()
	a2 := parseArrows(t, dom2)
	for k, a := range a1 {
		if a2[k].calls <= a.calls {
			t.Errorf("arrow %s: %d calls, then %d: the numbers did not move under load", k, a.calls, a2[k].calls)
		}
	}
	if a2["counter->kv"].calls < a2["front->counter"].calls {
		t.Errorf("counter->kv %d calls < front->counter %d (the counter calls kv at least once a call)", a2["counter->kv"].calls, a2["front->counter"].calls)
	}
	t.Logf("%d calls under load; front->greeter %d then %d calls, %.1f/s", calls, a1["front->greeter"].calls, a2["front->greeter"].calls, a2["front->greeter"].cps)
	// The details of front: its WIT, its arrows, its logs.
	for _, want := range []string{`id="detail-name">front<`, "export wbox:hello/app@0.1.0", "wbox:hello/greet@0.1.0 → greeter", "box.started"} {
		if !strings.Contains(dom2, want) {
			t.Errorf("the details of front lack %q", want)
		}
	}
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if dir := os.Getenv("WBOX_SCREENSHOT_DIR"); dir != "" {
		shot = filepath.Join(dir, "dashboard.png") // docs/dashboard.png is made so
	}
	headless(t, chrome, url+"#box=greeter", "--screenshot="+shot)
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Errorf("screenshot %s: %v, %d bytes", shot, err, len(b))
	}

	// The plan view's API, through the dashboard with the token.
	yaml, err := os.ReadFile(writeTopology(t, t.TempDir(), "t.yaml", func(s string) string {
		return strings.Replace(s, "language: en", "language: fr", 1)
	}))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(topologyRequest{File: "t.yaml", Dir: "/", YAML: string(yaml)})
	req, _ := http.NewRequest("POST", "http://"+dash+"/v1/plan", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pr planResponse
	json.NewDecoder(resp.Body).Decode(&pr)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(pr.Plan, "greeter") || pr.Applied {
		t.Errorf("plan through the dashboard: %s %+v", resp.Status, pr)
	}

	// Prometheus metrics over 127.0.0.1.
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, re := range []string{
		`wbox_box_calls_total\{box="front",node="[^"]+"\} [1-9]`,
		`wbox_arrow_calls_total\{from="front",import="wbox:hello/greet@0.1.0",node="[^"]+",target="greeter"\} [1-9]`,
		`wbox_arrow_call_duration_seconds_bucket\{from="counter",import="wbox:kv/store@0.1.0",[^}]*le="\+Inf"[^}]*\} [1-9]`,
		`wbox_arrow_calls_total\{from="counter",import="wbox:kv/store@0.1.0",node="[^"]+",target="kv"\} [1-9]`,
		`wbox_box_call_duration_seconds_count\{box="counter",node="[^"]+"\} [1-9]`,
		`wbox_box_memory_bytes\{box="greeter",node="[^"]+"\} [1-9]`,
		`wbox_box_up\{box="front",node="[^"]+",state="running"\} 1`,
		`wbox_box_restarts_total\{box="front",node="[^"]+"\} 0`,
		`wbox_box_in_flight\{box="front",node="[^"]+"\} `,
		`wbox_driver_up\{driver="kv",kind="kv",node="[^"]+"\} 1`,
		`process_cpu_seconds_total\{node="[^"]+"\} `,
		`process_resident_memory_bytes\{node="[^"]+"\} `,
	} {
		if !regexp.MustCompile(re).Match(text) {
			t.Errorf("metrics lack %s", re)
		}
	}
}

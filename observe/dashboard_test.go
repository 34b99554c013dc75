package observe_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/observe"
)

const relayIface = "wbox:test/relay@0.1.0"

// The dashboard over a real kernel (box relay → box leaf) on 127.0.0.1:
// nothing without the token; the token as a query sets a cookie that then
// suffices; the graph has both boxes, the arrow and its call count; a
// box's details carry its WIT and arrows; the assets load nothing from
// elsewhere; /metrics answers behind the token.
func TestDashboard(t *testing.T) {
	k := newKernel(t, nil)
	// relay loaded as the linker loads components (its WIT is shown),
	// in the kernel's runtime, which the kernel closes.
	rt, err := k.Runtime(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	relay, err := rt.Load(context.Background(), readWasm(t, "relay"))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Apply(context.Background(), &kernel.Plan{Start: []kernel.BoxSpec{
		{Name: "leaf", Wasm: readWasm(t, "leaf")},
		{Name: "relay", Component: relay, Config: map[string]string{"color": "blue"},
			Arrows: []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}},
	}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := k.Call(context.Background(), "relay", relayIface+"#call", []any{int32(1), int32(2)}, uint32(1)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := observe.Registry(k, "n1", nil)
	d := observe.NewDashboard(ctx, observe.DashboardConfig{Token: "s3cret", Kernel: k, Node: "n1",
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})})
	srv := httptest.NewServer(d)
	defer srv.Close()
	c := srv.Client()

	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	for _, p := range []string{"/", "/ui/graph", "/metrics", "/?token=wrong"} {
		if resp, _ := get(p); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %s", p, resp.Status)
		}
	}
	resp, page := get("/?token=s3cret")
	if resp.StatusCode != 200 || !strings.Contains(page, `<svg id="graph"`) {
		t.Fatalf("index: %s\n%s", resp.Status, page)
	}
	var cookie string
	for _, ck := range resp.Cookies() {
		if ck.Name == "wbox_token" && ck.HttpOnly {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	if cookie == "" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("index: cookie %q, CSP %q", cookie, resp.Header.Get("Content-Security-Policy"))
	}

	resp, body := get("/ui/graph", "Cookie", cookie)
	var g struct {
		Node  string
		Boxes []struct {
			Name, State string
			Calls       uint64
		}
		Arrows []struct {
			From, Import, Target string
			Calls                uint64
		}
	}
	if err := json.Unmarshal([]byte(body), &g); err != nil || resp.StatusCode != 200 {
		t.Fatalf("graph: %s %v\n%s", resp.Status, err, body)
	}
	if g.Node != "n1" || len(g.Boxes) != 2 || g.Boxes[1].Name != "relay" || g.Boxes[1].State != "running" || g.Boxes[1].Calls != 3 {
		t.Errorf("graph boxes: %+v", g)
	}
	if len(g.Arrows) != 1 || g.Arrows[0].From != "relay" || g.Arrows[0].Target != "leaf" || g.Arrows[0].Import != relayIface || g.Arrows[0].Calls != 3 {
		t.Errorf("graph arrows: %+v", g.Arrows)
	}

	_, body = get("/ui/box/relay", "Authorization", "Bearer s3cret")
	var det struct {
		WIT    string
		Arrows []string
		Config map[string]string
		Logs   []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(body), &det); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(det.WIT, "import "+relayIface) || len(det.Arrows) != 1 || det.Config["color"] != "blue" || len(det.Logs) == 0 {
		t.Errorf("relay's details: %+v", det)
	}
	if resp, _ := get("/ui/box/nope", "Cookie", cookie); resp.StatusCode != 404 {
		t.Errorf("details of a box that does not run: %s", resp.Status)
	}
	if _, m := get("/metrics", "Cookie", cookie); !strings.Contains(m, `wbox_arrow_calls_total{from="relay",import="wbox:test/relay@0.1.0",node="n1",target="leaf"} 3`) {
		t.Errorf("metrics through the dashboard lack relay's arrow:\n%s", m)
	}

	// No CDN: the assets name no other origin.
	err = filepath.WalkDir("assets", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, bad := range []string{"http://", "https://", "//cdn"} {
			if strings.Contains(strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", ""), bad) {
				t.Errorf("%s refers to another origin (%s)", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

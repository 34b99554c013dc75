package linker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

// httpLinker links against the real http driver, in a directory holding
// http-hello as web.wasm and the hello example's greeter as greeter.wasm.
func httpLinker(t *testing.T) (*Linker, string) {
	dir := t.TempDir()
	for name, comp := range map[string]string{"web": "http-hello", "greeter": "hello-greeter"} {
		b, err := os.ReadFile(testcomponents.Path(t, comp))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := New(Options{Runtime: runtime(t), Drivers: map[string]kernel.DriverFactory{httpdriver.Kind: httpdriver.Factory}})
	t.Cleanup(func() { l.Close(context.Background()) })
	return l, dir
}

// A box's http grants and fresh flag reach its BoxSpec; wasi:http needs no
// arrow; an ingress routing to it links.
func TestLinkHTTP(t *testing.T) {
	l, dir := httpLinker(t)
	spec, err := linkYAML(t, l, dir, `boxes:
  web:
    component: web.wasm
    http: {allow: [api.example.com, "*.example.org", "localhost:8080", "[::1]:9000"]}
    fresh: false
drivers:
  ingress:
    kind: http
    listen: 127.0.0.1:0
    routes:
      - {path: /, box: web}
`)
	if err != nil {
		t.Fatal(err)
	}
	b := spec.Boxes[0]
	if strings.Join(b.HTTP.Allow, " ") != "api.example.com *.example.org localhost:8080 [::1]:9000" || b.Fresh == nil || *b.Fresh {
		t.Fatalf("box spec: allow %q, fresh %v", b.HTTP.Allow, b.Fresh)
	}
}

// Every route's box is checked at deploy time, at the route's position: it
// exists and exports wasi:http/incoming-handler@0.2.x.
func TestLinkHTTPTargets(t *testing.T) {
	l, dir := httpLinker(t)
	_, err := linkYAML(t, l, dir, `boxes:
  web:
    component: web.wasm
  greeter:
    component: greeter.wasm
    http: {allow: ["bad host", [x]]}
    fresh: maybe
drivers:
  ingress:
    kind: http
    listen: 127.0.0.1:0
    routes:
      - {path: /, box: web}
      - {path: /a, box: wbe}
      - {path: /b, box: greeter}
      - {path: /c, box: ingress}
`)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T), want Errors", err, err)
	}
	got := err.Error()
	for _, want := range []string{
		`topology.yaml:6:20: http allow entry "bad host" is not a host`,
		`topology.yaml:6:32: each http allow entry must be a string, not a list`,
		`topology.yaml:7:12: fresh must be true or false, not "maybe"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("parse errors lack %q:\n%s", want, got)
		}
	}
	_, err = linkYAML(t, l, dir, `boxes:
  web:
    component: web.wasm
  greeter:
    component: greeter.wasm
drivers:
  ingress:
    kind: http
    listen: 127.0.0.1:0
    routes:
      - {path: /, box: web}
      - {path: /a, box: wbe}
      - {path: /b, box: greeter}
      - {path: /c, box: ingress}
`)
	if err == nil {
		t.Fatal("linked routes to missing and non-HTTP boxes")
	}
	got = err.Error()
	for _, want := range []string{
		`topology.yaml:12:25: driver "ingress" routes[1].box: unknown box "wbe"`,
		`topology.yaml:13:25: driver "ingress" routes[2].box: box "greeter" does not export wasi:http/incoming-handler`,
		`topology.yaml:14:25: driver "ingress" routes[3].box: "ingress" is a driver`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("link errors lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "routes[0]") {
		t.Errorf("the route to web is fine:\n%s", got)
	}
}

// A change of a box's http grants or fresh flag restarts it, saying why;
// the same grants in another order change nothing.
func TestDiffHTTPGrants(t *testing.T) {
	running := baseSpec()
	running.Boxes[1].HTTP.Allow = []string{"a.example", "b.example"}
	same := baseSpec()
	same.Boxes[1].HTTP.Allow = []string{"b.example", "a.example"}
	if p := Diff(same, snapshot(running)); !p.Empty() {
		t.Fatalf("reordered grants: %+v", p)
	}
	fresh := true
	changed := baseSpec()
	changed.Boxes[1].HTTP.Allow = []string{"a.example"}
	changed.Boxes[1].Fresh = &fresh
	p := Diff(changed, snapshot(running))
	if len(p.Restart) != 1 || p.Restart[0].Name != "greeter" {
		t.Fatalf("plan %+v", p)
	}
	if r := p.Reasons["greeter"]; !strings.Contains(r, "http allow [a.example, b.example] -> [a.example]") || !strings.Contains(r, "fresh auto -> true") {
		t.Fatalf("reason %q", r)
	}
}

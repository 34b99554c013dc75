package linker

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePlacement(t *testing.T) {
	topo, err := Parse("topology.yaml", "/x", []byte(`boxes:
  web:
    component: web.wasm
    placement: {node: n1}
  db:
    component: db.wasm
    placement:
      labels: {disk: ssd, zone: home}
  any:
    component: any.wasm
drivers:
  ingress:
    kind: http
    listen: 127.0.0.1:8080
    placement: {labels: {ingress: "yes"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Placement{}
	for _, b := range topo.Boxes {
		by[b.Name] = b.Placement
	}
	if p := by["web"]; p.Node != "n1" || p.NodePos.Line != 4 || p.String() != "node=n1" {
		t.Errorf("web: %+v", p)
	}
	if p := by["db"]; !reflect.DeepEqual(p.Labels, map[string]string{"disk": "ssd", "zone": "home"}) || p.String() != "labels{disk=ssd,zone=home}" {
		t.Errorf("db: %+v", p)
	}
	if p := by["any"]; !p.IsZero() || p.String() != "anywhere" {
		t.Errorf("any: %+v", p)
	}
	d := topo.Drivers[0]
	if d.Placement.Labels["ingress"] != "yes" {
		t.Errorf("ingress placement: %+v", d.Placement)
	}
	if _, ok := d.Settings["placement"]; ok {
		t.Errorf("placement is not a driver setting: %v", d.Settings)
	}
	if d.Settings["listen"] != "127.0.0.1:8080" {
		t.Errorf("settings: %v", d.Settings)
	}
}

func TestParsePlacementErrors(t *testing.T) {
	_, err := Parse("topology.yaml", "/x", []byte(`boxes:
  web:
    component: web.wasm
    placement: {node: "n 1", zone: a}
  db:
    component: db.wasm
    placement:
      labels: {disk: [ssd]}
  x:
    component: x.wasm
    placement: n1
`))
	want := []string{
		`topology.yaml:4:23: placement node "n 1": a node name is letters, digits, '-' and '_'`,
		`topology.yaml:4:30: unknown key "zone" in box "web" placement (allowed: node, labels)`,
		`topology.yaml:8:22: label "disk" must be a string, not a list`,
		`topology.yaml:11:16: box "x" placement must be a mapping, not`,
	}
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

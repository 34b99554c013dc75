package linker

import (
	"path/filepath"
	"testing"
)

func TestDriverDirResolved(t *testing.T) {
	src := []byte("drivers:\n  files: {kind: blob, dir: site}\n  abs: {kind: blob, dir: /srv/www}\n  up: {kind: blob, dir: ../shared/x}\n")
	topo, err := Parse("t.yaml", "/home/me/app", src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"files": "/home/me/app/site", "abs": "/srv/www", "up": filepath.Clean("/home/me/shared/x")}
	for _, d := range topo.Drivers {
		if got := d.Settings["dir"]; got != want[d.Name] {
			t.Errorf("driver %s: dir = %v, want %s", d.Name, got, want[d.Name])
		}
	}
}

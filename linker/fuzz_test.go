package linker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds the topology parser arbitrary files: topology files are
// untrusted input. Parse must not panic, must answer either a topology or
// Errors naming the file, and a topology it accepts must hold only names and
// endpoints the rest of wbox relies on.
//
// The seed corpus is testdata/fuzz/FuzzParse plus every topology under
// testdata/ and examples/.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "../examples/*/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(helloYAML))
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse("topology.yaml", "/top", data)
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 || len(es) > maxErrors+1 {
				t.Fatalf("error %v (%T) is not a non-empty, bounded Errors", err, err)
			}
			for _, e := range es {
				if e.Pos.File != "topology.yaml" || e.Msg == "" || !strings.HasPrefix(e.Error(), "topology.yaml") {
					t.Fatalf("bad error %q", e)
				}
			}
			return
		}
		names := map[string]bool{}
		for _, b := range topo.Boxes {
			if !nameRE.MatchString(b.Name) || names[b.Name] || b.Component == "" || b.Instances < 1 || b.Pos.Line < 1 {
				t.Fatalf("accepted bad box %+v", b)
			}
			names[b.Name] = true
			if strings.HasPrefix(b.Component, "sha256:") && !hexRE.MatchString(b.Component) {
				t.Fatalf("accepted bad digest %q", b.Component)
			}
			for _, d := range b.WASI.Dirs {
				if !strings.HasPrefix(d.GuestPath, "/") || d.HostDir == "" {
					t.Fatalf("accepted bad dir %+v", d)
				}
			}
		}
		for _, d := range topo.Drivers {
			if !nameRE.MatchString(d.Name) || names[d.Name] || d.Kind == "" && d.KindPos.Line == 0 {
				t.Fatalf("accepted bad driver %+v", d)
			}
			names[d.Name] = true
		}
		for _, a := range topo.Arrows {
			if a.FromTask == "" || !ifaceRE.MatchString(a.Import) || a.ToTask == "" || a.Export != "" && !ifaceRE.MatchString(a.Export) {
				t.Fatalf("accepted bad arrow %+v", a)
			}
		}
	})
}

package edge

import "testing"

// A bundle's manifest comes with the bundle: ParseManifest must refuse
// anything malformed without panicking, and what it accepts names only
// paths inside the bundle and well-formed digests.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"format":1,"source":"t.yaml","components":{"web":"sha256:` + "0000000000000000000000000000000000000000000000000000000000000000" + `"},"files":{"topology.yaml":"` + "0000000000000000000000000000000000000000000000000000000000000000" + `"}}`))
	f.Add([]byte(`{"format":1,"files":{"../etc/passwd":"00"}}`))
	f.Add([]byte(`{"format":2}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseManifest(raw)
		if err != nil {
			return
		}
		for p := range m.Files {
			if p == "" || p[0] == '/' || p == "manifest.json" {
				t.Fatalf("accepted file path %q", p)
			}
		}
		for box, d := range m.Components {
			if len(d) != len("sha256:")+64 {
				t.Fatalf("box %q: accepted digest %q", box, d)
			}
		}
	})
}

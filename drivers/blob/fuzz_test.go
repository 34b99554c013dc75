package blob

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPath: whatever path a box sends, the driver either refuses it or
// works inside its directory, and never panics; an accepted path is clean.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"index.html", "a/b/c.txt", "", "../x", "/etc/passwd", "a//b", "a/./b", "a/..", "link/x", "a\\b", "\x00", ".wbox-tmp-1", "é/ü.txt"} {
		f.Add(s)
	}
	outside := f.TempDir()
	dir := f.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		d := newDriver(t, map[string]any{"dir": dir, "shared": true}, "")
		defer func() {
			if d.root != nil {
				d.root.Close()
			}
		}()
		if validPath(p, true) == "" && p != "" {
			if path.Clean(p) != p || strings.HasPrefix(p, "../") || path.IsAbs(p) {
				t.Fatalf("accepted unclean path %q", p)
			}
		}
		d.Write("", p, []byte("x"))
		d.Stat("", p)
		d.Read("", p, 0, 1, "")
		d.List("", p)
		d.Delete("", p)
		ents, err := os.ReadDir(outside)
		if err != nil || len(ents) != 0 {
			t.Fatalf("path %q reached outside the directory: %v %v", p, ents, err)
		}
	})
}

package linker

import "path/filepath"

// DriverDirSettings are the driver settings that name a directory of the
// node (the blob driver's dir). A relative one is resolved against the
// topology file's directory when the file is parsed, as wasi dirs' host
// paths are, so a node started elsewhere finds the same directory and
// moving the topology changes the driver's settings (a restart).
var DriverDirSettings = []string{"dir"}

// resolveDriverDirs makes the directory settings of t's drivers absolute.
func resolveDriverDirs(t *Topology) {
	for _, d := range t.Drivers {
		for _, k := range DriverDirSettings {
			if s, ok := d.Settings[k].(string); ok && s != "" && !filepath.IsAbs(s) {
				d.Settings[k] = filepath.Clean(filepath.Join(t.Dir, s))
			}
		}
	}
}

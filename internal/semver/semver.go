// Package semver parses and compares the versions of component-model
// interface names ("wasi:io/streams@0.2.0") with the rules the component
// model borrows from Cargo. wasmhost matches imports with it and the linker
// checks arrows with it, so both agree on what "compatible" means.
package semver

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a semantic version: major.minor.patch with an optional
// pre-release tag (build metadata is dropped).
type Version struct {
	Major, Minor, Patch int
	Pre                 string
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// Less orders versions; a pre-release sorts before its release.
func (a Version) Less(b Version) bool {
	if a.Major != b.Major {
		return a.Major < b.Major
	}
	if a.Minor != b.Minor {
		return a.Minor < b.Minor
	}
	if a.Patch != b.Patch {
		return a.Patch < b.Patch
	}
	return a.Pre != "" && (b.Pre == "" || a.Pre < b.Pre)
}

// Compatible follows Cargo's semver rule, which the component model uses for
// interface versions: 1.x.y with 1.z.w; 0.x.y with 0.x.z; 0.0.x only itself.
// Pre-release tags must be equal.
func (a Version) Compatible(b Version) bool {
	if a.Pre != b.Pre {
		return false
	}
	if a.Major != b.Major {
		return false
	}
	if a.Major > 0 {
		return true
	}
	if a.Minor != b.Minor {
		return false
	}
	return a.Minor > 0 || a.Patch == b.Patch
}

// Split splits "ns:pkg/iface@1.2.3" into "ns:pkg/iface" and 1.2.3. ok is
// false when the name has no valid version; base is then the whole name.
func Split(name string) (base string, v Version, ok bool) {
	at := strings.LastIndexByte(name, '@')
	if at < 0 {
		return name, Version{}, false
	}
	v, err := Parse(name[at+1:])
	if err != nil {
		return name, Version{}, false
	}
	return name[:at], v, true
}

// Parse parses "major.minor.patch[-pre][+build]".
func Parse(s string) (Version, error) {
	var v Version
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		if s[i] == '-' {
			v.Pre = s[i+1:]
			if j := strings.IndexByte(v.Pre, '+'); j >= 0 {
				v.Pre = v.Pre[:j]
			}
		}
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("version %q: bad number %q", s, p)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

// NamesCompatible reports whether two interface names denote the same
// interface at compatible versions: equal names, or equal bases with
// compatible versions.
func NamesCompatible(a, b string) bool {
	if a == b {
		return true
	}
	ab, av, ok1 := Split(a)
	bb, bv, ok2 := Split(b)
	return ok1 && ok2 && ab == bb && av.Compatible(bv)
}

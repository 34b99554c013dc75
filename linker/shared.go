package linker

import (
	"sort"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost"
)

// checkSharedResources reports imports of a box that use a resource type of
// another of its imports (wasi:keyvalue/atomics and batch take borrows of
// wasi:keyvalue/store's bucket) while their arrows go to different tasks:
// a handle made by one task means nothing to another, so both arrows must
// reach the same one.
func checkSharedResources(errs *errList, box string, w *wasmhost.World, bound map[string]*Arrow, target map[string]string) {
	var names []string
	for n := range bound {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, imp := range names {
		e := w.Import(imp)
		if e == nil || e.Instance == nil {
			continue
		}
		seen := map[string]bool{}
		for _, x := range e.Instance.Exports {
			if x.Kind != wasmhost.ExternType || x.Resource == nil {
				continue
			}
			owner := x.Resource.Interface
			if owner == "" || owner == imp || semver.NamesCompatible(owner, imp) || seen[owner] {
				continue
			}
			seen[owner] = true
			ownerArrow := bound[owner]
			if ownerArrow == nil || target[owner] == "" || target[imp] == "" || target[owner] == target[imp] {
				continue
			}
			a := bound[imp]
			errs.add(a.ToPos, "arrow %s: %s uses resource %q of %s, whose arrow (line %d) goes to %q: both must go to the same task (%q's handles mean nothing to %q)",
				a, imp, x.Resource.Name, owner, ownerArrow.Pos.Line, target[owner], target[owner], target[imp])
		}
	}
}

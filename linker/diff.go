package linker

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/wbox-dev/wbox/kernel"
)

// Diff computes the Plan that takes a node from what it runs to desired:
//
//   - a box that does not run starts;
//   - a box whose kernel.Fingerprint changed (component digest, config,
//     instances, limits, restart policy, WASI and HTTP grants, fresh)
//     restarts;
//   - a box whose arrows alone changed (kernel.ArrowsFingerprint) is
//     rewired in place and keeps its instances;
//   - any other box is kept, untouched (even a failed one: its supervisor
//     owns it);
//   - a running box that desired does not name stops.
//
// Drivers likewise, by kernel.DriverFingerprint (kind and settings).
// Reasons explains every start, restart, rewire and stop, and notes kept
// boxes whose arrows lead to a restarted driver (the kernel rebinds them).
func Diff(desired *kernel.Spec, running kernel.Snapshot) *kernel.Plan {
	p := &kernel.Plan{Reasons: map[string]string{}}
	want := map[string]bool{}
	restartedDrivers := map[string]bool{}

	for _, d := range desired.Drivers {
		want[d.Name] = true
		cur, ok := running.Drivers[d.Name]
		switch {
		case !ok:
			p.StartDrivers = append(p.StartDrivers, d)
			p.Reasons[d.Name] = fmt.Sprintf("new driver (kind %s)", d.Kind)
		case kernel.DriverFingerprint(d) != cur.Fingerprint:
			p.RestartDrivers = append(p.RestartDrivers, d)
			p.Reasons[d.Name] = driverChanges(cur.Spec, d)
			restartedDrivers[d.Name] = true
		default:
			p.KeepDrivers = append(p.KeepDrivers, d.Name)
		}
	}
	for _, n := range sortedKeys(running.Drivers) {
		if !want[n] {
			p.StopDrivers = append(p.StopDrivers, n)
			p.Reasons[n] = "not in the topology"
		}
	}

	for _, b := range desired.Boxes {
		want[b.Name] = true
		cur, ok := running.Boxes[b.Name]
		switch {
		case !ok:
			p.Start = append(p.Start, b)
			p.Reasons[b.Name] = "new box"
		case kernel.Fingerprint(b) != cur.Fingerprint:
			p.Restart = append(p.Restart, b)
			p.Reasons[b.Name] = boxChanges(cur.Spec, b)
		case kernel.ArrowsFingerprint(b) != cur.ArrowsFingerprint:
			p.Rewire = append(p.Rewire, b)
			p.Reasons[b.Name] = arrowChanges(cur.Spec.Arrows, b.Arrows)
		default:
			p.Keep = append(p.Keep, b.Name)
			var rebound []string
			for _, a := range b.Arrows {
				if restartedDrivers[a.Target] {
					rebound = append(rebound, a.Target)
				}
			}
			if len(rebound) > 0 {
				p.Reasons[b.Name] = "rebound to restarted " + strings.Join(slices.Compact(rebound), ", ")
			}
		}
	}
	for _, n := range sortedKeys(running.Boxes) {
		if !want[n] {
			p.Stop = append(p.Stop, n)
			p.Reasons[n] = "not in the topology"
		}
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	ks := slices.Collect(maps.Keys(m))
	sort.Strings(ks)
	return ks
}

// boxChanges says what differs between the running and the desired spec of
// a box (values of config and env are not shown: they may be secrets).
func boxChanges(old, new kernel.BoxSpec) string {
	var ch []string
	if od, nd := specDigest(old), specDigest(new); od != nd {
		ch = append(ch, fmt.Sprintf("component %s -> %s", shortDigest(od), shortDigest(nd)))
	}
	if d := mapChanges(old.Config, new.Config); d != "" {
		ch = append(ch, "config "+d)
	}
	if oi, ni := max(old.Instances, 1), max(new.Instances, 1); oi != ni {
		ch = append(ch, fmt.Sprintf("instances %d -> %d", oi, ni))
	}
	ol, nl := old.Limits, new.Limits
	if ol.MemoryBytes != nl.MemoryBytes {
		ch = append(ch, fmt.Sprintf("memory %s -> %s", size(ol.MemoryBytes), size(nl.MemoryBytes)))
	}
	if ol.CallTimeout != nl.CallTimeout {
		ch = append(ch, fmt.Sprintf("call-timeout %s -> %s", orDefault(ol.CallTimeout.String(), ol.CallTimeout == 0), orDefault(nl.CallTimeout.String(), nl.CallTimeout == 0)))
	}
	if ol.MaxInFlight != nl.MaxInFlight {
		ch = append(ch, fmt.Sprintf("max-in-flight %s -> %s", orDefault(fmt.Sprint(ol.MaxInFlight), ol.MaxInFlight == 0), orDefault(fmt.Sprint(nl.MaxInFlight), nl.MaxInFlight == 0)))
	}
	if old.Restart != new.Restart {
		ch = append(ch, "restart policy changed")
	}
	ow, nw := old.WASI, new.WASI
	if ow.Stdout != nw.Stdout || ow.Stderr != nw.Stderr {
		ch = append(ch, "wasi stdio grants changed")
	}
	if d := mapChanges(ow.Env, nw.Env); d != "" {
		ch = append(ch, "wasi env "+d)
	}
	if !slices.Equal(ow.Args, nw.Args) {
		ch = append(ch, "wasi args changed")
	}
	if !slices.Equal(ow.Dirs, nw.Dirs) {
		ch = append(ch, "wasi dirs changed")
	}
	if oa, na := slices.Sorted(slices.Values(old.HTTP.Allow)), slices.Sorted(slices.Values(new.HTTP.Allow)); !slices.Equal(oa, na) {
		ch = append(ch, fmt.Sprintf("http allow [%s] -> [%s]", strings.Join(oa, ", "), strings.Join(na, ", ")))
	}
	if of, nf := freshString(old.Fresh), freshString(new.Fresh); of != nf {
		ch = append(ch, "fresh "+of+" -> "+nf)
	}
	if len(ch) == 0 {
		return "changed"
	}
	return strings.Join(ch, "; ")
}

func orDefault(s string, isDefault bool) string {
	if isDefault {
		return "default"
	}
	return s
}

func size(n uint64) string {
	switch {
	case n == 0:
		return "default"
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// mapChanges names the keys added (+k), removed (-k) and changed (~k).
func mapChanges(old, new map[string]string) string {
	var ch []string
	for _, k := range sortedKeys(new) {
		ov, ok := old[k]
		switch {
		case !ok:
			ch = append(ch, "+"+k)
		case ov != new[k]:
			ch = append(ch, "~"+k)
		}
	}
	for _, k := range sortedKeys(old) {
		if _, ok := new[k]; !ok {
			ch = append(ch, "-"+k)
		}
	}
	return strings.Join(ch, " ")
}

func driverChanges(old, new kernel.DriverSpec) string {
	if old.Kind != new.Kind {
		return fmt.Sprintf("kind %s -> %s", old.Kind, new.Kind)
	}
	var ch []string
	for _, k := range sortedKeys(new.Settings) {
		ov, ok := old.Settings[k]
		switch {
		case !ok:
			ch = append(ch, "+"+k)
		case !reflect.DeepEqual(ov, new.Settings[k]):
			ch = append(ch, "~"+k)
		}
	}
	for _, k := range sortedKeys(old.Settings) {
		if _, ok := new.Settings[k]; !ok {
			ch = append(ch, "-"+k)
		}
	}
	if len(ch) == 0 {
		return "settings changed"
	}
	return "settings " + strings.Join(ch, " ")
}

// arrowChanges describes how a box's arrows changed, import by import.
func arrowChanges(old, new []kernel.Arrow) string {
	byImport := func(as []kernel.Arrow) map[string]kernel.Arrow {
		m := map[string]kernel.Arrow{}
		for _, a := range as {
			m[a.Import] = a
		}
		return m
	}
	om, nm := byImport(old), byImport(new)
	var ch []string
	for _, imp := range sortedKeys(nm) {
		n := nm[imp]
		o, ok := om[imp]
		switch {
		case !ok:
			ch = append(ch, fmt.Sprintf("+%s -> %s.%s", imp, n.Target, n.Export))
		case o != n:
			ch = append(ch, fmt.Sprintf("%s -> %s.%s (was %s.%s)", imp, n.Target, n.Export, o.Target, o.Export))
		}
	}
	for _, imp := range sortedKeys(om) {
		if _, ok := nm[imp]; !ok {
			o := om[imp]
			ch = append(ch, fmt.Sprintf("-%s -> %s.%s", imp, o.Target, o.Export))
		}
	}
	return "arrows " + strings.Join(ch, "; ")
}

func specDigest(b kernel.BoxSpec) string {
	if b.Digest == "" && b.Component != nil {
		return b.Component.Digest()
	}
	return b.Digest
}

func shortDigest(d string) string {
	if rest, ok := strings.CutPrefix(d, "sha256:"); ok && len(rest) > 12 {
		return "sha256:" + rest[:12]
	}
	return d
}

// FormatPlan renders a plan for people, one task a line, boxes then
// drivers, each group in name order:
//
//   - start   web       new box
//     ~ restart greeter   component sha256:1712ef0f5f6c -> sha256:9a0c3e11d2b4
//     > rewire  front     arrows wbox:hello/greet@0.1.0 -> greeter2.wbox:hello/greet@0.1.0 (was greeter...)
//   - stop    old       not in the topology
//     = keep    counter
//
// and a summary line. An empty plan says so.
func FormatPlan(p *kernel.Plan) string {
	type line struct{ sym, verb, name, reason string }
	var boxes, drivers []line
	add := func(dst *[]line, sym, verb string, names []string) {
		sort.Strings(names)
		for _, n := range names {
			*dst = append(*dst, line{sym, verb, n, p.Reasons[n]})
		}
	}
	names := func(bs []kernel.BoxSpec) []string {
		var ns []string
		for _, b := range bs {
			ns = append(ns, b.Name)
		}
		return ns
	}
	dnames := func(ds []kernel.DriverSpec) []string {
		var ns []string
		for _, d := range ds {
			ns = append(ns, d.Name)
		}
		return ns
	}
	add(&boxes, "+", "start", names(p.Start))
	add(&boxes, "~", "restart", names(p.Restart))
	add(&boxes, ">", "rewire", names(p.Rewire))
	add(&boxes, "-", "stop", slices.Clone(p.Stop))
	add(&boxes, "=", "keep", slices.Clone(p.Keep))
	add(&drivers, "+", "start", dnames(p.StartDrivers))
	add(&drivers, "~", "restart", dnames(p.RestartDrivers))
	add(&drivers, "-", "stop", slices.Clone(p.StopDrivers))
	add(&drivers, "=", "keep", slices.Clone(p.KeepDrivers))

	width := 0
	for _, l := range append(slices.Clone(boxes), drivers...) {
		width = max(width, len(l.name))
	}
	var b strings.Builder
	write := func(title string, ls []line) {
		if len(ls) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		for _, l := range ls {
			s := fmt.Sprintf("  %s %-7s %-*s  %s", l.sym, l.verb, width, l.name, l.reason)
			b.WriteString(strings.TrimRight(s, " "))
			b.WriteByte('\n')
		}
	}
	write("boxes", boxes)
	write("drivers", drivers)
	if p.Empty() {
		fmt.Fprintf(&b, "no changes: %s and %s keep running\n", plural(len(p.Keep), "box", "boxes"), plural(len(p.KeepDrivers), "driver", "drivers"))
	} else {
		fmt.Fprintf(&b, "plan: %d to start, %d to restart, %d to rewire, %d to stop, %d unchanged\n",
			len(p.Start)+len(p.StartDrivers), len(p.Restart)+len(p.RestartDrivers), len(p.Rewire),
			len(p.Stop)+len(p.StopDrivers), len(p.Keep)+len(p.KeepDrivers))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func freshString(f *bool) string {
	if f == nil {
		return "auto"
	}
	return fmt.Sprint(*f)
}

package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"
)

// Apply applies a deploy plan, all or nothing. New and restarted boxes (and
// drivers) start first, beside the old ones; only if every one of them
// started is the routing table switched to the new topology in one atomic
// swap (which also rewires the boxes in p.Rewire), and only then are the
// replaced and removed tasks stopped, after finishing the calls they had
// queued. If anything fails to start, everything Apply started is stopped
// again and the error names the task: the old topology keeps serving,
// untouched.
//
// Boxes that p does not mention keep running as they are; a box in Rewire
// keeps its instances. One exception: a native task binds its functions
// into a box's instances when they are created, so a box whose arrows to a
// native task change (or whose native target is restarted) is rebound:
// new instances are started beside the old ones and swapped in, without
// counting as a restart.
func (k *Kernel) Apply(ctx context.Context, p *Plan) (err error) {
	if p == nil {
		p = &Plan{}
	}
	k.applyMu.Lock()
	defer k.applyMu.Unlock()
	if k.closed.Load() {
		return ErrClosed
	}
	defer func() {
		if err != nil {
			k.events.emit(slog.LevelError, EvDeployFailed, "", "deploy failed, nothing changed: "+err.Error(), "err", err.Error())
		}
	}()
	start := time.Now()
	old := k.routes.Load()
	k.mu.Lock()
	curBoxes, curDrivers := maps.Clone(k.boxes), maps.Clone(k.drivers)
	k.mu.Unlock()

	if err := checkPlan(p, curBoxes, curDrivers); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}

	// The new routing table: what stays, minus what stops, plus what starts.
	nt := &routing{tasks: maps.Clone(old.tasks), arrows: map[string]map[string]*route{}}
	for _, n := range p.Stop {
		delete(nt.tasks, n)
	}
	for _, n := range p.StopDrivers {
		delete(nt.tasks, n)
	}

	// Everything started here, to undo on failure.
	var (
		newDrivers []*driverTask
		newBoxes   []*boxTask
		rebinds    = map[*boxTask]*generation{}
	)
	undo := func() {
		bg := context.Background()
		for _, b := range newBoxes {
			b.stop(bg, "deploy failed")
		}
		for _, g := range rebinds {
			if g != nil {
				g.end(&TaskError{Task: g.b.name, Kind: ErrStopped, detail: "deploy failed"}, false)
				<-g.finished
			}
		}
		for _, d := range newDrivers {
			d.stop(bg, "deploy failed")
		}
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()

	for _, ds := range append(append([]DriverSpec(nil), p.StartDrivers...), p.RestartDrivers...) {
		d, err := k.newDriver(ds)
		if err != nil {
			return fmt.Errorf("deploy: driver %q: %w", ds.Name, err)
		}
		newDrivers = append(newDrivers, d)
		nt.tasks[ds.Name] = d
	}
	specs := map[string]BoxSpec{}
	for _, bs := range append(append([]BoxSpec(nil), p.Start...), p.Restart...) {
		b, err := k.newBox(ctx, bs)
		if err != nil {
			return fmt.Errorf("deploy: box %q: %w", bs.Name, err)
		}
		newBoxes = append(newBoxes, b)
		nt.tasks[bs.Name] = b
		specs[bs.Name] = bs
	}
	for _, bs := range p.Rewire {
		b := curBoxes[bs.Name]
		b.mu.Lock()
		fp := b.fp
		b.mu.Unlock()
		if Fingerprint(bs) != fp {
			return fmt.Errorf("deploy: rewire box %q: more than its arrows changed (its fingerprint differs): restart it instead", bs.Name)
		}
		specs[bs.Name] = bs
	}
	fresh := map[string]bool{}
	for _, b := range newBoxes {
		fresh[b.name] = true
	}
	// Resolve every box's arrows against the new table.
	var names []string
	for n := range nt.tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, ok := nt.tasks[n].(*boxTask)
		if !ok {
			continue
		}
		spec, ok := specs[n]
		if !ok {
			b.mu.Lock()
			spec = b.spec
			b.mu.Unlock()
		}
		if err := nt.addArrows(b, spec); err != nil {
			return fmt.Errorf("deploy: %w", err)
		}
	}

	for _, d := range newDrivers {
		d.start()
	}
	for _, b := range newBoxes {
		g, err := b.startGen(ctx, nt)
		if err != nil {
			return fmt.Errorf("deploy: box %q did not start: %w", b.name, err)
		}
		b.gen.Store(g)
	}
	for _, n := range names {
		b, ok := nt.tasks[n].(*boxTask)
		if !ok || fresh[n] || !needsRebind(old.arrows[n], nt.arrows[n]) {
			continue
		}
		rebinds[b] = nil
		g, err := b.startGen(ctx, nt)
		if err != nil {
			return fmt.Errorf("deploy: box %q did not start new instances for its new arrows to native tasks: %w", n, err)
		}
		rebinds[b] = g
	}

	// Commit: from here on nothing fails.
	k.routes.Store(nt)
	k.mu.Lock()
	for _, n := range p.Stop {
		delete(k.boxes, n)
	}
	for _, n := range p.StopDrivers {
		delete(k.drivers, n)
	}
	for _, d := range newDrivers {
		k.drivers[d.name] = d
	}
	for _, b := range newBoxes {
		k.boxes[b.name] = b
	}
	k.mu.Unlock()
	for _, bs := range p.Rewire {
		b := curBoxes[bs.Name]
		b.mu.Lock()
		b.spec.Arrows = bs.Arrows
		b.afp = ArrowsFingerprint(b.spec)
		b.mu.Unlock()
		k.events.emit(slog.LevelInfo, EvBoxRewired, bs.Name, fmt.Sprintf("box %q rewired", bs.Name), "reason", p.Reasons[bs.Name], "arrows", arrowList(bs.Arrows))
	}
	var oldGens []*generation
	for b, g := range rebinds {
		oldGens = append(oldGens, b.swapGen(g))
		k.events.emit(slog.LevelInfo, EvBoxRebound, b.name, fmt.Sprintf("box %q rebound to its native arrows", b.name), "instances", strings.Join(g.ids(), " "))
	}
	for _, b := range newBoxes {
		b.startSupervisor()
		g := b.gen.Load()
		k.events.emit(slog.LevelInfo, EvBoxStarted, b.name, fmt.Sprintf("box %q started", b.name),
			"digest", shortDigest(specDigest(b.spec)), "instances", strings.Join(g.ids(), " "), "reason", p.Reasons[b.name])
	}
	for _, d := range newDrivers {
		k.events.emit(slog.LevelInfo, EvDriverStarted, d.name, fmt.Sprintf("driver %q (%s) started", d.name, d.spec.Kind), "reason", p.Reasons[d.name])
	}

	// Stop what was replaced or removed, after their queued calls.
	var wg sync.WaitGroup
	for _, bs := range p.Restart {
		b := curBoxes[bs.Name]
		wg.Go(func() { b.stop(ctx, "replaced by a deploy") })
	}
	for _, n := range p.Stop {
		b := curBoxes[n]
		wg.Go(func() { b.stop(ctx, "removed by a deploy") })
	}
	for _, g := range oldGens {
		if g != nil {
			wg.Go(func() { g.stop(ctx, "rebound by a deploy") })
		}
	}
	wg.Wait()
	for _, ds := range p.RestartDrivers {
		d := curDrivers[ds.Name]
		wg.Go(func() { d.stop(ctx, "replaced by a deploy") })
	}
	for _, n := range p.StopDrivers {
		d := curDrivers[n]
		wg.Go(func() { d.stop(ctx, "removed by a deploy") })
	}
	wg.Wait()

	k.events.emit(slog.LevelInfo, EvDeployApplied, "", "deploy applied: "+summary(p),
		"took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// needsRebind reports whether a box's arrows to native tasks changed: those
// are bound into its instances, not looked up per call.
func needsRebind(old, new map[string]*route) bool {
	for imp, n := range new {
		o := old[imp]
		if n.driver == nil && (o == nil || o.driver == nil) {
			continue
		}
		if o == nil || o.driver != n.driver || o.Export != n.Export {
			return true
		}
	}
	for imp, o := range old {
		if o.driver != nil && new[imp] == nil {
			return true
		}
	}
	return false
}

// checkPlan checks that a plan fits what runs: every name once, started
// tasks new, restarted, rewired, kept and stopped ones running.
func checkPlan(p *Plan, boxes map[string]*boxTask, drivers map[string]*driverTask) error {
	seen := map[string]string{}
	var errs []error
	note := func(name, action string) bool {
		if name == "" {
			errs = append(errs, fmt.Errorf("%s: a task without a name", action))
			return false
		}
		if prev, dup := seen[name]; dup {
			errs = append(errs, fmt.Errorf("%q is both in %s and in %s", name, prev, action))
			return false
		}
		seen[name] = action
		return true
	}
	isBox := func(n, action string) {
		if note(n, action) && boxes[n] == nil {
			errs = append(errs, fmt.Errorf("%s box %q: no such box runs", action, n))
		}
	}
	isDriver := func(n, action string) {
		if note(n, action) && drivers[n] == nil {
			errs = append(errs, fmt.Errorf("%s driver %q: no such driver runs", action, n))
		}
	}
	isNew := func(n, action string) {
		if note(n, action) && (boxes[n] != nil || drivers[n] != nil) {
			errs = append(errs, fmt.Errorf("%s %q: a task of that name runs already", action, n))
		}
	}
	for _, b := range p.Start {
		isNew(b.Name, "start")
	}
	for _, b := range p.Restart {
		isBox(b.Name, "restart")
	}
	for _, b := range p.Rewire {
		isBox(b.Name, "rewire")
	}
	for _, n := range p.Stop {
		isBox(n, "stop")
	}
	for _, n := range p.Keep {
		isBox(n, "keep")
	}
	for _, d := range p.StartDrivers {
		isNew(d.Name, "start")
	}
	for _, d := range p.RestartDrivers {
		isDriver(d.Name, "restart")
	}
	for _, n := range p.StopDrivers {
		isDriver(n, "stop")
	}
	for _, n := range p.KeepDrivers {
		isDriver(n, "keep")
	}
	return errors.Join(errs...)
}

func arrowList(as []Arrow) string {
	var s []string
	for _, a := range as {
		s = append(s, a.Import+" -> "+a.Target+"."+a.Export)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

func summary(p *Plan) string {
	var parts []string
	add := func(verb string, n int) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", verb, n))
		}
	}
	add("started", len(p.Start)+len(p.StartDrivers))
	add("restarted", len(p.Restart)+len(p.RestartDrivers))
	add("rewired", len(p.Rewire))
	add("stopped", len(p.Stop)+len(p.StopDrivers))
	add("kept", len(p.Keep)+len(p.KeepDrivers))
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

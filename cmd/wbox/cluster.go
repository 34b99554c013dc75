package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	"github.com/wbox-dev/wbox/drivers/kv"
	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/nodes"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/wave"
)

// A node in a cluster (`wbox node --cluster-listen ADDR`, `--join URL` or
// `--nats URL`): besides its kernel it runs a nodes.Node. The desired state
// lives in the cluster (nodes.Deployment, nodes.Assignment in JetStream):
//
//   - `wbox deploy FILE` on any node type-checks the topology there, puts
//     its components in the cluster's store and stores the deployment;
//   - the reconciler (the one node holding the lease) places its boxes and
//     drivers on the live members (nodes.Place) and writes the assignment,
//     again whenever a member is lost or joins;
//   - every node applies its share (cluster.apply): the boxes placed on it
//     run in its kernel and are served to the cluster; a box placed
//     elsewhere that a local box has an arrow to becomes a stand-in, a
//     native task of kind nodes.RemoteKind named BOX@remote, and the arrow
//     is pointed at it.
//
// Drivers by kind (driverPolicy): the HTTP and TCP ingresses run on every
// node they may run on (so they answer on every node), and so does a kv
// driver with backend: jetstream (its data is the cluster's; the boxes
// bound to it run anywhere); every other driver keeps state where it runs
// (kv's file, blob's files) and runs on one node, and the boxes with
// arrows to it run beside it.
//
// A node that (re)starts runs nothing until it has read the assignment,
// and runs only what it assigns to it: a node back from the dead does not
// duplicate the boxes that moved away from it.

// clusterOptions are the cluster flags of `wbox node` and `wbox up`.
type clusterOptions struct {
	cfg nodes.Config
}

func (o *clusterOptions) register(fs *flag.FlagSet) {
	o.cfg.RegisterFlags(fs)
	fs.Func("labels", "node labels for placement: k=v,k2=v2", func(s string) error {
		for _, kv := range strings.Split(s, ",") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			if err := fs.Set("label", kv); err != nil {
				return err
			}
		}
		return nil
	})
	fs.IntVar(&o.cfg.Capacity.Boxes, "capacity", 0, "the most boxes placed on this node (0: no limit)")
	fs.DurationVar(&o.cfg.Heartbeat, "heartbeat", 0, "the membership heartbeat interval; a node silent for 3 is lost (default 1s)")
}

// enabled reports whether the node joins or forms a cluster; without
// cluster flags a node is alone and starts no NATS at all.
func (o *clusterOptions) enabled() bool {
	return o.cfg.ClusterListen != "" || len(o.cfg.Join) > 0 || o.cfg.NATS != "" ||
		o.cfg.LeafListen != "" || len(o.cfg.Leaf) > 0
}

// remoteSuffix names a remote box's stand-in: BOX@remote ('@' is not
// allowed in topology names, so it never clashes).
const remoteSuffix = "@remote"

// driverPolicy says where a driver runs: on every node it may run on (the
// stateless ingresses, HTTP and TCP: every node answers; and kv with
// backend: jetstream, whose data is the cluster's), or on one node with
// the boxes bound to it (the others keep their data there).
func driverPolicy(d *linker.Driver) (every bool) {
	return d.Kind == httpdriver.Kind || d.Kind == tcpdriver.Kind ||
		d.Kind == kv.Kind && d.Settings["backend"] == kv.BackendJetStream
}

// targetsOf returns the boxes a driver calls (kernel.BoxCaller), asking its
// factory with a zero environment as the linker does.
func targetsOf(d *linker.Driver) []string {
	f := drivers()[d.Kind]
	if f == nil {
		return nil
	}
	nat, err := f(kernel.DriverSpec{Name: d.Name, Kind: d.Kind, Settings: d.Settings}, kernel.DriverEnv{})
	if err != nil {
		return nil
	}
	bc, ok := nat.(kernel.BoxCaller)
	if !ok {
		return nil
	}
	var boxes []string
	for _, t := range bc.Targets() {
		if !slices.Contains(boxes, t.Box) {
			boxes = append(boxes, t.Box)
		}
	}
	return boxes
}

// cluster is a node's part in the cluster.
type cluster struct {
	n   *node
	nn  *nodes.Node
	log *slog.Logger

	mu      sync.Mutex
	dep     *nodes.Deployment
	asg     *nodes.Assignment
	spec    *kernel.Spec                                 // the deployment, linked
	exports map[string]map[string]*wasmhost.InstanceType // of each box, by name
	served  map[string]string                            // box → digest served
	// provBase is the revision of the assignment a provisional one
	// (asg.Revision 0, see failover) was derived from.
	provBase uint64
	seen     map[string]bool // members seen live (by failover)

	wg sync.WaitGroup
}

func startCluster(ctx context.Context, o *clusterOptions, data string, log *slog.Logger) (*cluster, error) {
	cfg := o.cfg
	cfg.DataDir = data
	cfg.Logger = log
	nn, err := nodes.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &cluster{nn: nn, log: log, served: map[string]string{}, seen: map[string]bool{}, exports: map[string]map[string]*wasmhost.InstanceType{}}, nil
}

// remoteDriver makes the stand-ins of remote boxes (settings: box, digest).
func (c *cluster) remoteDriver(spec kernel.DriverSpec, _ kernel.DriverEnv) (kernel.Native, error) {
	box, _ := spec.Settings["box"].(string)
	c.mu.Lock()
	ex := c.exports[box]
	c.mu.Unlock()
	if ex == nil {
		return nil, fmt.Errorf("remote box %q: its exports are unknown", box)
	}
	return c.nn.Remote(box, ex)
}

// run applies the cluster's assignment whenever it changes, and takes part
// in the reconciler, until ctx ends.
func (c *cluster) run(ctx context.Context) {
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.nn.Reconcile(ctx)
	}()
	go func() {
		defer c.wg.Done()
		changed, stop, err := c.nn.StateChanged()
		if err != nil {
			c.log.Error("cluster", "err", err)
			return
		}
		defer stop()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		members := c.nn.MembersChanged()
		routes := time.NewTicker(250 * time.Millisecond)
		defer routes.Stop()
		peers := c.nn.Peers()
		var lastErr string
		for {
			// Failover first: it needs no JetStream (whose streams may
			// be electing leaders after a loss), only what was applied.
			err := c.failover(ctx)
			if err == nil {
				err = c.apply(ctx)
			}
			switch {
			case err != nil && ctx.Err() == nil && err.Error() != lastErr:
				c.log.Error("applying the cluster's assignment", "err", err)
				lastErr = err.Error()
			case err == nil:
				lastErr = ""
			}
		wait:
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-t.C:
			case <-members:
			case <-routes.C:
				// A member whose server's route closed is gone (see
				// nodes.Node.LiveMembers).
				now := c.nn.Peers()
				same := slices.Equal(now, peers)
				peers = now
				if same {
					goto wait
				}
			}
		}
	}()
}

// close leaves the cluster. It waits for the apply loop until ctx ends: a
// cold compile of a large component does not stop at once.
func (c *cluster) close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		c.log.Warn("leaving the cluster while a deployment is still being applied")
	}
	return c.nn.Close(ctx)
}

// apply makes the node run its share of the current assignment.
func (c *cluster) apply(ctx context.Context) error {
	rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
	defer rcancel()
	a, err := c.nn.Assignment(rctx)
	if errors.Is(err, nodes.ErrNoDeployment) {
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	done := c.asg != nil && c.asg.Revision == a.Revision
	if c.asg != nil && c.asg.Revision == 0 && c.provBase == a.Revision {
		// Failover took over tasks of lost members; the reconciler has
		// not decided yet. Back to its assignment only if every member
		// it names is live again (a false alarm).
		done = !allLive(a, c.nn.LiveMembers())
	}
	c.mu.Unlock()
	if done {
		return nil
	}
	d, err := c.nn.Deployment(rctx)
	if err != nil {
		return err
	}
	if d.Revision != a.Deployment {
		return nil // the reconciler has not placed it yet
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c.mu.Lock()
	spec := c.spec
	if c.dep == nil || c.dep.Revision != d.Revision {
		spec = nil
	}
	c.mu.Unlock()
	if spec == nil {
		if spec, err = c.link(ctx, d); err != nil {
			return fmt.Errorf("deployment %d (%s): %w", d.Revision, d.File, err)
		}
	}
	return c.applyAssignment(ctx, d, a, spec)
}

// failover starts at once what this node would get if the members it
// lost were placed elsewhere (Place is deterministic: the reconciler will
// decide the same, but it may be the node that died, or its JetStream
// streams may be electing a new leader for seconds). It only adds: the
// reconciler's next assignment, applied as usual, is the truth.
func (c *cluster) failover(ctx context.Context) error {
	c.mu.Lock()
	d, a, spec := c.dep, c.asg, c.spec
	c.mu.Unlock()
	if d == nil || a == nil || spec == nil {
		return nil
	}
	me := c.nn.Name()
	live := c.nn.LiveMembers()
	for _, m := range live {
		c.seen[m.Name] = true
	}
	// Only members this node saw live and lost count: a node that just
	// (re)started has not heard everyone yet. With none lost, there is
	// nothing to take over (a member that joined waits for the reconciler).
	lost := false
	for _, p := range a.Tasks {
		for _, n := range p.Nodes {
			if !c.seen[n] {
				return nil
			}
			if !slices.ContainsFunc(live, func(m nodes.Member) bool { return m.Name == n }) {
				lost = true
			}
		}
	}
	if !lost {
		return nil
	}
	next := nodes.Place(d.Tasks, live, a.Tasks)
	prov := &nodes.Assignment{Deployment: a.Deployment, By: me + " (failover)", Tasks: maps.Clone(a.Tasks)}
	var took []string
	for task, p := range next {
		if p.On(me) && !a.Tasks[task].On(me) {
			q := prov.Tasks[task]
			q.Nodes = append(slices.Clone(q.Nodes), me)
			q.Instances = p.Instances
			prov.Tasks[task] = q
			took = append(took, task)
		}
	}
	if len(took) == 0 {
		return nil
	}
	sort.Strings(took)
	c.mu.Lock()
	if c.asg.Revision != 0 {
		c.provBase = c.asg.Revision
	}
	c.mu.Unlock()
	c.log.Warn("members lost: taking over their tasks before the reconciler decides", "tasks", strings.Join(took, ","))
	return c.applyAssignment(ctx, d, prov, spec)
}

// allLive reports whether every node a places tasks on is live.
func allLive(a *nodes.Assignment, live []nodes.Member) bool {
	for _, p := range a.Tasks {
		for _, n := range p.Nodes {
			if !slices.ContainsFunc(live, func(m nodes.Member) bool { return m.Name == n }) {
				return false
			}
		}
	}
	return true
}

// applyAssignment makes the node run its share of a (Revision 0: a
// provisional one of failover).
func (c *cluster) applyAssignment(ctx context.Context, d *nodes.Deployment, a *nodes.Assignment, spec *kernel.Spec) error {
	me := c.nn.Name()
	local := localSpec(spec, a, me, d.Components)

	n := c.n
	n.deployMu.Lock()
	defer n.deployMu.Unlock()
	exports := map[string]map[string]*wasmhost.InstanceType{}
	for _, b := range spec.Boxes {
		exports[b.Name] = nodes.ExportsOf(b.Component.World())
	}
	c.mu.Lock()
	c.exports = exports
	served := maps.Clone(c.served)
	c.mu.Unlock()
	// Stop answering for boxes that leave this node before they stop.
	for box := range served {
		if !a.Tasks[box].On(me) {
			c.nn.Unserve(ctx, box)
			delete(served, box)
		}
	}
	p := linker.Diff(local, n.k.Snapshot())
	if !p.Empty() {
		if err := n.k.Apply(ctx, p); err != nil {
			n.l.Prune(ctx, n.k.Snapshot().Spec())
			return fmt.Errorf("applying deployment %d: %w", d.Revision, err)
		}
	}
	n.l.Prune(ctx, spec)
	for _, b := range local.Boxes {
		if served[b.Name] == b.Digest {
			continue
		}
		if !servable(exports[b.Name]) {
			continue // reached only on its own node (an ingress's box)
		}
		if err := c.nn.Serve(b.Name, exports[b.Name], n.k.Call); err != nil {
			c.log.Warn("box not served to the cluster", "box", b.Name, "err", err)
			continue
		}
		served[b.Name] = b.Digest
	}
	c.mu.Lock()
	c.dep, c.asg, c.spec, c.served = d, a, spec, served
	c.mu.Unlock()
	n.file = d.File
	var mine []string
	for _, b := range local.Boxes {
		mine = append(mine, b.Name)
	}
	for _, dr := range local.Drivers {
		mine = append(mine, dr.Name)
	}
	c.log.Info("applied the cluster's assignment", "deployment", d.Revision, "assignment", a.Revision, "here", strings.Join(mine, ","), "plan", summaryOf(p))
	return nil
}

func summaryOf(p *kernel.Plan) string {
	return fmt.Sprintf("%d started, %d restarted, %d rewired, %d stopped", len(p.Start)+len(p.StartDrivers), len(p.Restart)+len(p.RestartDrivers), len(p.Rewire), len(p.Stop)+len(p.StopDrivers))
}

// link links a deployment on this node: its components come from the
// cluster's store (cached in the node's component store).
func (c *cluster) link(ctx context.Context, d *nodes.Deployment) (*kernel.Spec, error) {
	store := filepath.Join(c.n.dataDir, "store")
	for box, digest := range d.Components {
		if _, err := os.Stat(linker.StorePath(store, digest)); err == nil {
			continue
		}
		wasm, err := c.nn.Component(ctx, digest)
		if err != nil {
			return nil, fmt.Errorf("box %q: %w", box, err)
		}
		if _, err := linker.Store(store, wasm); err != nil {
			return nil, fmt.Errorf("box %q: storing its component: %w", box, err)
		}
	}
	topo, err := linker.Parse(d.File, d.Dir, []byte(d.YAML))
	if err != nil {
		return nil, err
	}
	for _, b := range topo.Boxes {
		b.Component, b.Digest = d.Components[b.Name], ""
	}
	c.n.deployMu.Lock()
	defer c.n.deployMu.Unlock()
	return c.n.l.Link(ctx, topo)
}

// localSpec is the part of spec that runs on node me: its boxes and
// drivers, and stand-ins for the remote boxes its boxes have arrows to.
func localSpec(spec *kernel.Spec, a *nodes.Assignment, me string, digests map[string]string) *kernel.Spec {
	out := &kernel.Spec{}
	isBox := map[string]bool{}
	for _, b := range spec.Boxes {
		isBox[b.Name] = true
	}
	remote := map[string]bool{}
	for _, b := range spec.Boxes {
		p := a.Tasks[b.Name]
		if !p.On(me) {
			continue
		}
		if p.Instances > 0 {
			b.Instances = p.Instances
		}
		b.Arrows = slices.Clone(b.Arrows)
		for i, ar := range b.Arrows {
			if isBox[ar.Target] && !a.Tasks[ar.Target].On(me) {
				remote[ar.Target] = true
				b.Arrows[i].Target = ar.Target + remoteSuffix
			}
		}
		out.Boxes = append(out.Boxes, b)
	}
	for _, d := range spec.Drivers {
		if a.Tasks[d.Name].On(me) {
			out.Drivers = append(out.Drivers, d)
		}
	}
	for _, box := range slices.Sorted(maps.Keys(remote)) {
		out.Drivers = append(out.Drivers, kernel.DriverSpec{Name: box + remoteSuffix, Kind: nodes.RemoteKind,
			Settings: map[string]any{"box": box, "digest": digests[box]}})
	}
	return out
}

// tasksOf describes a topology's boxes and drivers to placement.
//
// A box a driver calls (an ingress's routes) must run where the driver
// runs: beside it for a driver on one node; on every node of an ingress
// that runs on every node, with the ingress's pin and labels.
func tasksOf(topo *linker.Topology, spec *kernel.Spec) []nodes.Task {
	kinds := map[string]string{}
	everywhere := map[string]bool{} // drivers on every node: a box bound to one needs not follow it
	var ts []nodes.Task
	calledBy := map[string][]*linker.Driver{}
	for _, d := range topo.Drivers {
		kinds[d.Name] = d.Kind
		everywhere[d.Name] = driverPolicy(d)
		ts = append(ts, nodes.Task{Name: d.Name, Driver: d.Kind, Node: d.Placement.Node, Labels: d.Placement.Labels, Every: driverPolicy(d)})
		for _, box := range targetsOf(d) {
			calledBy[box] = append(calledBy[box], d)
		}
	}
	arrows := map[string][]string{}
	for _, b := range spec.Boxes {
		for _, a := range b.Arrows {
			if _, ok := kinds[a.Target]; ok && !everywhere[a.Target] && !slices.Contains(arrows[b.Name], a.Target) {
				arrows[b.Name] = append(arrows[b.Name], a.Target)
			}
		}
	}
	var boxes []nodes.Task
	for _, b := range topo.Boxes {
		t := nodes.Task{Name: b.Name, Instances: b.Instances, Node: b.Placement.Node, Labels: maps.Clone(b.Placement.Labels), With: arrows[b.Name]}
		for _, d := range calledBy[b.Name] {
			if !driverPolicy(d) {
				if !slices.Contains(t.With, d.Name) {
					t.With = append(t.With, d.Name)
				}
				continue
			}
			t.Every = true
			if t.Node == "" {
				t.Node = d.Placement.Node
			}
			for k, v := range d.Placement.Labels {
				if t.Labels == nil {
					t.Labels = map[string]string{}
				}
				if _, ok := t.Labels[k]; !ok {
					t.Labels[k] = v
				}
			}
		}
		boxes = append(boxes, t)
	}
	return append(boxes, ts...)
}

// who names the user deploying: user@host.
func who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// prepare parses, links and type-checks a topology on this node, puts its
// components in the cluster's store, and returns the deployment. The caller
// holds deployMu.
func (c *cluster) prepare(ctx context.Context, req topologyRequest) (*nodes.Deployment, map[string]bool, error) {
	if len(req.YAML) > linker.MaxFileSize {
		return nil, nil, fmt.Errorf("%s: file is larger than %d bytes", req.File, linker.MaxFileSize)
	}
	topo, err := linker.Parse(req.File, req.Dir, []byte(req.YAML))
	if err != nil {
		return nil, nil, err
	}
	spec, err := c.n.l.Link(ctx, topo)
	defer c.n.l.Prune(ctx, c.n.k.Snapshot().Spec(), c.currentSpec())
	if err != nil {
		return nil, nil, err
	}
	d := &nodes.Deployment{File: req.File, Dir: req.Dir, YAML: req.YAML, Who: req.Who, Components: map[string]string{}, Tasks: tasksOf(topo, spec)}
	if d.Who == "" {
		d.Who = who()
	}
	store := filepath.Join(c.n.dataDir, "store")
	for _, b := range spec.Boxes {
		d.Components[b.Name] = b.Digest
	}
	for box, digest := range d.Components {
		wasm, err := os.ReadFile(linker.StorePath(store, digest))
		if err != nil {
			return nil, nil, fmt.Errorf("box %q: reading its component from the node's store: %w", box, err)
		}
		if _, err := c.nn.PutComponent(ctx, wasm); err != nil {
			return nil, nil, fmt.Errorf("box %q: %w", box, err)
		}
	}
	unservable := map[string]bool{}
	for _, b := range spec.Boxes {
		if !servable(nodes.ExportsOf(b.Component.World())) {
			unservable[b.Name] = true
		}
	}
	return d, unservable, nil
}

func (c *cluster) currentSpec() *kernel.Spec {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spec == nil {
		return &kernel.Spec{}
	}
	return c.spec
}

// deploy stores a topology as the cluster's deployment and waits (a
// little) for the reconciler to place it.
func (c *cluster) deploy(ctx context.Context, req topologyRequest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c.n.deployMu.Lock()
	d, unservable, err := c.prepare(ctx, req)
	c.n.deployMu.Unlock()
	if err != nil {
		return "", err
	}
	rev, err := c.nn.Deploy(ctx, d)
	if err != nil {
		return "", err
	}
	c.log.Info("deployed to the cluster", "file", d.File, "revision", rev, "who", d.Who)
	var b strings.Builder
	fmt.Fprintf(&b, "deployment %d of %s by %s\n", rev, d.File, d.Who)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		a, err := c.nn.Assignment(wctx)
		if err == nil && a.Deployment == rev {
			writePlacement(&b, d.Tasks, a.Tasks)
			c.waitServed(wctx, d.Tasks, a.Tasks, unservable, &b)
			return b.String(), nil
		}
		select {
		case <-wctx.Done():
			fmt.Fprintf(&b, "not placed yet: the reconciler has not answered (is JetStream up? see `wbox status`)\n")
			return b.String(), nil
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// servable reports whether a box's exports can be served across nodes:
// not when it exports resource types (as wasi:http's incoming-handler
// does: its ingress calls it on its own node).
func servable(exports map[string]*wasmhost.InstanceType) bool {
	for _, it := range exports {
		for _, e := range it.Exports {
			if e.Kind == wasmhost.ExternType && e.Resource != nil {
				return false
			}
		}
	}
	return true
}

// waitServed waits until every placed box is served by the nodes it is
// placed on (they applied the assignment), or ctx ends.
func (c *cluster) waitServed(ctx context.Context, tasks []nodes.Task, placed map[string]nodes.Placed, unservable map[string]bool, b *strings.Builder) {
	for {
		var missing []string
		for _, t := range tasks {
			if t.Driver != "" || unservable[t.Name] {
				continue
			}
			where := c.nn.Where(t.Name)
			for _, n := range placed[t.Name].Nodes {
				if !slices.Contains(where, n) {
					missing = append(missing, t.Name+" on "+n)
				}
			}
		}
		if len(missing) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(b, "not running yet: %s (see `wbox status` and `wbox logs` on those nodes)\n", strings.Join(missing, ", "))
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// plan explains where each box and driver of a topology would run.
func (c *cluster) plan(ctx context.Context, req topologyRequest) (string, error) {
	c.n.deployMu.Lock()
	defer c.n.deployMu.Unlock()
	topo, err := linker.Parse(req.File, req.Dir, []byte(req.YAML))
	if err != nil {
		return "", err
	}
	spec, err := c.n.l.Link(ctx, topo)
	defer c.n.l.Prune(ctx, c.n.k.Snapshot().Spec(), c.currentSpec())
	if err != nil {
		return "", err
	}
	tasks := tasksOf(topo, spec)
	var prev map[string]nodes.Placed
	if a, err := c.nn.Assignment(ctx); err == nil {
		prev = a.Tasks
	}
	ms := c.nn.Members()
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	placed := nodes.Place(tasks, ms, prev)
	var b strings.Builder
	fmt.Fprintf(&b, "placement on %d live nodes (%s):\n", len(ms), strings.Join(names, ", "))
	for _, t := range tasks {
		p := placed[t.Name]
		mark := "="
		switch old, ok := prev[t.Name]; {
		case !ok:
			mark = "+"
		case !slices.Equal(old.Nodes, p.Nodes):
			mark = ">"
		}
		where := strings.Join(p.Nodes, ",")
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(&b, "  %s %-16s %-14s %s\n", mark, taskLabel(t), where, p.Why)
	}
	for name := range prev {
		if !slices.ContainsFunc(tasks, func(t nodes.Task) bool { return t.Name == name }) {
			fmt.Fprintf(&b, "  - %-16s stops\n", name)
		}
	}
	return b.String(), nil
}

func taskLabel(t nodes.Task) string {
	if t.Driver != "" {
		return t.Name + " (" + t.Driver + ")"
	}
	return t.Name
}

func writePlacement(b *strings.Builder, tasks []nodes.Task, placed map[string]nodes.Placed) {
	for _, t := range tasks {
		p := placed[t.Name]
		where := strings.Join(p.Nodes, ",")
		if where == "" {
			where = "nowhere"
		}
		fmt.Fprintf(b, "  %-16s -> %-14s %s\n", taskLabel(t), where, p.Why)
	}
}

// status describes the cluster for `wbox status`.
func (c *cluster) status(ctx context.Context) *clusterStatus {
	st := &clusterStatus{Name: c.nn.Name(), Cluster: c.nn.Cluster()}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	alive := map[string]bool{}
	a, _ := c.nn.Assignment(ctx)
	runs := map[string][]string{}
	if a != nil {
		for task, p := range a.Tasks {
			for _, n := range p.Nodes {
				runs[n] = append(runs[n], task)
			}
		}
	}
	live := map[string]bool{}
	for _, m := range c.nn.LiveMembers() {
		live[m.Name] = true
	}
	for _, m := range c.nn.Members() {
		alive[m.Name] = true
		state := "alive"
		switch {
		case m.Self:
			state = "alive (this node)"
		case !live[m.Name]:
			state = "unreachable"
		}
		sort.Strings(runs[m.Name])
		st.Nodes = append(st.Nodes, memberInfo{Name: m.Name, Labels: m.Labels, State: state, Boxes: m.Boxes, Assigned: runs[m.Name]})
	}
	for name, tasks := range runs {
		if !alive[name] {
			sort.Strings(tasks)
			st.Nodes = append(st.Nodes, memberInfo{Name: name, State: "lost", Assigned: tasks})
		}
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Name < st.Nodes[j].Name })
	if d, err := c.nn.Deployment(ctx); err == nil {
		st.Deployment = &deploymentInfo{Revision: d.Revision, File: d.File, Who: d.Who, Time: d.Time, Via: d.Node}
		for _, t := range d.Tasks {
			pi := placementInfo{Task: taskLabel(t)}
			if a != nil && a.Deployment == d.Revision {
				pi.Nodes, pi.Why = a.Tasks[t.Name].Nodes, a.Tasks[t.Name].Why
			}
			st.Placement = append(st.Placement, pi)
		}
	}
	if a != nil {
		st.Assignment, st.PlacedBy = a.Revision, a.By
	}
	if hist, err := c.nn.Deployments(ctx); err == nil {
		for _, d := range hist[max(0, len(hist)-historyShown):] {
			st.History = append(st.History, deploymentInfo{Revision: d.Revision, File: d.File, Who: d.Who, Time: d.Time, Via: d.Node})
		}
	}
	if st.Deployment != nil { // the leases bucket exists only since the first deployment
		st.Reconciler, _ = c.nn.LeaseHolder(ctx, nodes.ReconcilerLease)
	}
	return st
}

// invoke calls a box that runs on another node; false if the cluster has no
// such box either.
func (c *cluster) invoke(w http.ResponseWriter, r *http.Request, req invokeRequest) bool {
	c.mu.Lock()
	spec, ex := c.spec, c.exports[req.Box]
	c.mu.Unlock()
	if spec == nil || ex == nil {
		return false
	}
	var bs kernel.BoxSpec
	for _, b := range spec.Boxes {
		if b.Name == req.Box {
			bs = b
		}
	}
	fn, ft, err := findExport(bs, req.Export)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return true
	}
	args, err := wave.ParseArgs(ft.Params, req.Args)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("%s %s: %w", fn, ft, err))
		return true
	}
	rem, err := c.nn.Remote(req.Box, ex)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return true
	}
	res, err := rem.Call(r.Context(), fn, args)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return true
	}
	out, err := wave.FormatResults(ft.Results, res)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return true
	}
	writeJSON(w, http.StatusOK, invokeResponse{Func: fn, Result: out})
	return true
}

// historyShown is how many deployments `wbox status` lists.
const historyShown = 10

// printCluster prints the cluster part of `wbox status`.
func printCluster(w io.Writer, c *clusterStatus) {
	fmt.Fprintf(w, "cluster %s, this node %s, reconciler %s\n", c.Cluster, c.Name, orDash(c.Reconciler))
	if d := c.Deployment; d != nil {
		fmt.Fprintf(w, "deployment %d: %s by %s via %s at %s; placed by %s (assignment %d)\n",
			d.Revision, d.File, d.Who, d.Via, d.Time.Local().Format(time.DateTime), orDash(c.PlacedBy), c.Assignment)
	} else {
		fmt.Fprintln(w, "nothing deployed to the cluster: `wbox deploy FILE`")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nNODE\tSTATE\tLABELS\tASSIGNED\tSERVES")
	for _, m := range c.Nodes {
		var ls []string
		for _, k := range slices.Sorted(maps.Keys(m.Labels)) {
			ls = append(ls, k+"="+m.Labels[k])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, m.State, orDash(strings.Join(ls, ",")), orDash(strings.Join(m.Assigned, ",")), orDash(strings.Join(m.Boxes, ",")))
	}
	if len(c.Placement) > 0 {
		fmt.Fprintln(tw, "\nTASK\tRUNS ON\tWHY")
		for _, p := range c.Placement {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Task, orDash(strings.Join(p.Nodes, ",")), p.Why)
		}
	}
	if len(c.History) > 1 {
		fmt.Fprintln(tw, "\nDEPLOYMENT\tWHEN\tWHO\tVIA\tFILE")
		for _, d := range c.History {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", d.Revision, d.Time.Local().Format(time.DateTime), d.Who, d.Via, d.File)
		}
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package nodes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/nodes/internal/wire"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// Headers of remote calls.
const (
	// hdrDeadline carries the caller's deadline, in Unix nanoseconds.
	hdrDeadline = "Wbox-Deadline"
	// hdrChain carries the boxes the call passed through, comma-separated,
	// outermost first, so a call back into one of them is refused
	// (kernel.ErrReentrant) instead of deadlocking its instance.
	hdrChain = "Wbox-Chain"
	// hdrError marks an error answer: the kind of error (kindNames); the
	// body is the message.
	hdrError = "Wbox-Error"
	// hdrNode names the node that answered an error.
	hdrNode = "Wbox-Node"
)

// RemoteKind is the kernel driver kind of a remote box's stand-in (see
// Node.RemoteDriver).
const RemoteKind = "wbox.remote"

// subject is the NATS subject of a function of an exported interface of a
// box: wbox.<cluster>.call.<box>.<interface>.<function>, with the dots of
// names (interface versions) written as '_' so that each name is one
// token (WIT and semver names never contain '_').
func (n *Node) subject(box, iface, fn string) string {
	return n.prefix + ".call." + token(box) + "." + token(iface) + "." + token(fn)
}

func token(s string) string { return strings.ReplaceAll(s, ".", "_") }

// checkToken refuses names that cannot be part of a subject.
func checkSubjectName(what, s string) error {
	if s == "" || strings.ContainsAny(s, " \t\r\n*>") {
		return fmt.Errorf("%s %q cannot be part of a NATS subject", what, s)
	}
	return nil
}

// Remote is a box on another node as the kernel sees it: a native task
// exporting the box's interfaces, whose functions call the box over NATS.
// Bind it to the arrows of local boxes (it implements kernel.Native), or
// call it by name (kernel.NativeCaller). Values cross in the wire format;
// the call's deadline travels with it.
type Remote struct {
	n       *Node
	box     string
	exports map[string]*wasmhost.InstanceType
	funcs   map[string]*remoteFunc // by "iface#func"
}

type remoteFunc struct {
	name    string // "iface#func"
	subject string
	typ     *value.FuncType
}

// Remote returns the stand-in of box, served by another node, with the
// interfaces it exports (as its component declares them).
func (n *Node) Remote(box string, exports map[string]*wasmhost.InstanceType) (*Remote, error) {
	if err := checkSubjectName("box", box); err != nil {
		return nil, err
	}
	r := &Remote{n: n, box: box, exports: exports, funcs: map[string]*remoteFunc{}}
	for iface, it := range exports {
		if err := checkSubjectName("interface", iface); err != nil {
			return nil, err
		}
		for _, e := range it.Exports {
			if e.Kind != wasmhost.ExternFunc {
				continue
			}
			name := iface + "#" + e.Name
			r.funcs[name] = &remoteFunc{name: name, subject: n.subject(box, iface, e.Name), typ: e.Func}
		}
	}
	return r, nil
}

// RemoteDriver is the kernel.DriverFactory of kind RemoteKind: the task it
// makes stands for a box that runs on another node. Settings:
//
//	box      the remote box's name (default: the driver's own name, so
//	         arrows to the box need not change when it moves)
//	exports  map[string]*wasmhost.InstanceType: its exported interfaces
//	digest   else, its component's digest, resolved by types
//
// types may be nil when every spec carries exports.
func (n *Node) RemoteDriver(types func(digest string) (map[string]*wasmhost.InstanceType, error)) kernel.DriverFactory {
	return func(spec kernel.DriverSpec, _ kernel.DriverEnv) (kernel.Native, error) {
		box := spec.Name
		if s, ok := spec.Settings["box"].(string); ok && s != "" {
			box = s
		}
		exports, _ := spec.Settings["exports"].(map[string]*wasmhost.InstanceType)
		if exports == nil {
			digest, _ := spec.Settings["digest"].(string)
			if digest == "" || types == nil {
				return nil, fmt.Errorf("remote box %q: its settings need exports or a digest", box)
			}
			var err error
			if exports, err = types(digest); err != nil {
				return nil, fmt.Errorf("remote box %q: the exports of %s: %w", box, digest, err)
			}
		}
		return n.Remote(box, exports)
	}
}

// ExportsOf returns the interfaces a component exports, by name.
func ExportsOf(w *wasmhost.World) map[string]*wasmhost.InstanceType {
	m := map[string]*wasmhost.InstanceType{}
	for _, e := range w.Exports {
		if e.Kind == wasmhost.ExternInstance {
			m[e.Name] = e.Instance
		}
	}
	return m
}

// Box returns the name of the remote box.
func (r *Remote) Box() string { return r.box }

// Exports implements kernel.Native.
func (r *Remote) Exports() map[string]*wasmhost.InstanceType { return r.exports }

// Run implements kernel.Native: a remote box has nothing to run locally.
func (r *Remote) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Bind implements kernel.Native: every function of export becomes a host
// function that calls the remote box, typed as the box exports it (an
// importer whose type differs fails to instantiate, naming both).
func (r *Remote) Bind(caller, export string, hi *wasmhost.HostInstance) error {
	iface, it := r.export(export)
	if it == nil {
		return fmt.Errorf("remote box %q exports no %s (it exports %s)", r.box, export, r.exportList())
	}
	for _, e := range it.Exports {
		switch e.Kind {
		case wasmhost.ExternFunc:
			f := r.funcs[iface+"#"+e.Name]
			hi.TypedFunc(e.Name, f.typ, func(ctx context.Context, args []any) ([]any, error) {
				return r.call(ctx, caller, f, args)
			})
		case wasmhost.ExternType:
			if e.Resource != nil {
				return fmt.Errorf("%s: resource %s cannot cross nodes", export, e.Name)
			}
		}
	}
	return nil
}

// export finds an exported interface by name, semver-compatibly.
func (r *Remote) export(name string) (string, *wasmhost.InstanceType) {
	if it, ok := r.exports[name]; ok {
		return name, it
	}
	for n, it := range r.exports {
		if semver.NamesCompatible(n, name) {
			return n, it
		}
	}
	return "", nil
}

func (r *Remote) exportList() string {
	var ns []string
	for n := range r.exports {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	if len(ns) == 0 {
		return "nothing"
	}
	return strings.Join(ns, ", ")
}

// Call implements kernel.NativeCaller: fn is "iface#func".
func (r *Remote) Call(ctx context.Context, fn string, args []any) ([]any, error) {
	f := r.funcs[fn]
	if f == nil {
		iface, name, _ := strings.Cut(fn, "#")
		if full, _ := r.export(iface); full != "" {
			f = r.funcs[full+"#"+name]
		}
		if f == nil {
			return nil, &kernel.TaskError{Task: r.box, Func: fn, Kind: kernel.ErrNoFunc,
				Err: fmt.Errorf("remote box %q exports %s", r.box, r.exportList())}
		}
	}
	return r.call(ctx, "", f, args)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// call calls f of the remote box: its arguments encoded in the wire
// format, its deadline and call chain in headers.
func (r *Remote) call(ctx context.Context, caller string, f *remoteFunc, args []any) ([]any, error) {
	fail := func(kind error, re *RemoteError) error {
		re.Box, re.Func = r.box, f.name
		return &kernel.TaskError{Task: r.box, Func: f.name, Kind: kind, Err: re}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := wire.AppendParams((*bp)[:0], f.typ.Params, args)
	*bp = data[:0]
	if err != nil {
		return nil, fail(kernel.ErrInvalidCall, &RemoteError{Kind: ErrWire, Err: err})
	}
	start := time.Now()
	dl, ok := ctx.Deadline()
	if !ok {
		var cancel context.CancelFunc
		dl = start.Add(r.n.cfg.CallTimeout)
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	h := nats.Header{hdrDeadline: []string{strconv.FormatInt(dl.UnixNano(), 10)}}
	chain := chainOf(ctx)
	if caller != "" {
		chain = append(chain[:len(chain):len(chain)], caller)
	}
	if len(chain) > 0 {
		h[hdrChain] = []string{strings.Join(chain, ",")}
	}
	injectTrace(ctx, h) // trace.go
	resp, err := r.n.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: f.subject, Data: data, Header: h})
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return nil, fail(kernel.ErrUnavailable, &RemoteError{Kind: ErrUnreachable, Cluster: r.n.cfg.Cluster, Err: err})
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout), errors.Is(err, context.Canceled):
			return nil, fail(kernel.ErrCancelled, &RemoteError{Kind: ErrTimeout, Waited: time.Since(start), Err: err})
		}
		return nil, fail(kernel.ErrUnavailable, &RemoteError{Kind: ErrUnreachable, Cluster: r.n.cfg.Cluster, Err: err})
	}
	if kind := resp.Header.Get(hdrError); kind != "" {
		if kind == "cancelled" && !time.Now().Before(dl) {
			// The callee gave up at the deadline we sent it, a moment
			// before our own wait ended: a timeout all the same.
			return nil, fail(kernel.ErrCancelled, &RemoteError{Kind: ErrTimeout, Node: resp.Header.Get(hdrNode), Waited: time.Since(start), Err: context.DeadlineExceeded})
		}
		return nil, fail(kindOf(kind), &RemoteError{Kind: ErrRemote, Node: resp.Header.Get(hdrNode), Msg: string(resp.Data)})
	}
	res, err := wire.DecodeParams(resp.Data, f.typ.Results)
	if err != nil {
		return nil, fail(kernel.ErrArrow, &RemoteError{Kind: ErrWire, Err: err})
	}
	return res, nil
}

// chainKey carries, in a call's context, the chain of boxes a remote call
// arrived through (see hdrChain).
type chainKey struct{}

func chainOf(ctx context.Context) []string {
	c, _ := ctx.Value(chainKey{}).([]string)
	return c
}

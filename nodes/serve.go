package nodes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wbox-dev/wbox/nodes/internal/wire"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// CallFunc calls fn ("iface#func") of a local box: kernel.Kernel.Call.
type CallFunc func(ctx context.Context, box, fn string, args ...any) ([]any, error)

// MaxConcurrentCalls bounds the remote calls a node serves at once, all
// boxes together; more wait in NATS (the kernel refuses calls past a box's
// own MaxInFlight with kernel.ErrOverloaded long before).
const MaxConcurrentCalls = 4096

// service answers the calls of the cluster to one local box.
type service struct {
	n    *Node
	box  string
	call CallFunc
	// funcs maps a call subject to its function.
	funcs map[string]*servedFunc
	subs  []*nats.Subscription

	ctx    context.Context // cancelled when the service stops for good
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type servedFunc struct {
	name string // "iface#func"
	typ  *value.FuncType
}

// Serve answers the cluster's calls to the exported interfaces of the local
// box named box, calling it with call (kernel.Kernel.Call). Several nodes
// may serve the same box: each call goes to one of them (a NATS queue
// group). Serving a box again replaces its exports.
func (n *Node) Serve(box string, exports map[string]*wasmhost.InstanceType, call CallFunc) error {
	if err := checkSubjectName("box", box); err != nil {
		return err
	}
	s := &service{n: n, box: box, call: call, funcs: map[string]*servedFunc{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var ifaces []string
	for iface, it := range exports {
		if err := checkSubjectName("interface", iface); err != nil {
			return err
		}
		for _, e := range it.Exports {
			if e.Kind == wasmhost.ExternType && e.Resource != nil {
				return fmt.Errorf("box %q: %s: resource %s cannot cross nodes", box, iface, e.Name)
			}
			if e.Kind == wasmhost.ExternFunc {
				s.funcs[n.subject(box, iface, e.Name)] = &servedFunc{name: iface + "#" + e.Name, typ: e.Func}
			}
		}
		ifaces = append(ifaces, iface)
	}
	sort.Strings(ifaces)
	for _, iface := range ifaces {
		subj := n.prefix + ".call." + token(box) + "." + token(iface) + ".*"
		sub, err := n.nc.QueueSubscribe(subj, "wbox.call."+token(box), s.handle)
		if err != nil {
			s.stop()
			return fmt.Errorf("serving box %q: %w", box, err)
		}
		s.subs = append(s.subs, sub)
	}
	// Make the interest known to the server before saying we serve.
	if err := n.nc.FlushTimeout(5 * time.Second); err != nil {
		s.stop()
		return err
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		s.stop()
		return errors.New("the node is closed")
	}
	old := n.services[box]
	n.services[box] = s
	n.mu.Unlock()
	if old != nil {
		old.stop()
		old.wait(context.Background())
	}
	n.members.changed()
	return nil
}

// Unserve stops answering calls to box; calls it is serving finish (until
// ctx ends).
func (n *Node) Unserve(ctx context.Context, box string) {
	n.mu.Lock()
	s := n.services[box]
	delete(n.services, box)
	n.mu.Unlock()
	if s == nil {
		return
	}
	s.stop()
	s.wait(ctx)
	n.members.changed()
}

// Serving returns the boxes the node serves to the cluster, sorted.
func (n *Node) Serving() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	bs := make([]string, 0, len(n.services))
	for b := range n.services {
		bs = append(bs, b)
	}
	sort.Strings(bs)
	return bs
}

// stop unsubscribes: no new calls come.
func (s *service) stop() {
	for _, sub := range s.subs {
		sub.Unsubscribe()
	}
}

// wait waits for the calls in progress; when ctx ends first, it cancels
// them and waits for them to return.
func (s *service) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
	s.cancel()
}

func (s *service) handle(m *nats.Msg) {
	if m.Reply == "" {
		return // nobody to answer
	}
	s.wg.Add(1)
	s.n.sem <- struct{}{}
	go func() {
		defer func() {
			<-s.n.sem
			s.wg.Done()
		}()
		s.serve(m)
	}()
}

func (s *service) serve(m *nats.Msg) {
	f := s.funcs[m.Subject]
	if f == nil {
		fn := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
		s.fail(m, "no-func", fmt.Sprintf("box %q exports no function %s here", s.box, fn))
		return
	}
	dl := time.Now().Add(s.n.cfg.CallTimeout)
	if h := m.Header.Get(hdrDeadline); h != "" {
		if ns, err := strconv.ParseInt(h, 10, 64); err == nil {
			dl = time.Unix(0, ns)
		}
	}
	var chain []string
	if h := m.Header.Get(hdrChain); h != "" {
		chain = strings.Split(h, ",")
		if slices.Contains(chain, s.box) {
			s.fail(m, "reentrant", fmt.Sprintf("%s → %s: %q is already in this call chain, and a component instance cannot be re-entered",
				strings.Join(chain, " → "), s.box, s.box))
			return
		}
	}
	args, err := wire.DecodeParams(m.Data, f.typ.Params)
	if err != nil {
		s.fail(m, "invalid-call", fmt.Sprintf("the arguments of %s: %v", f.name, err))
		return
	}
	ctx, cancel := context.WithDeadline(s.ctx, dl)
	defer cancel()
	if chain != nil {
		ctx = context.WithValue(ctx, chainKey{}, chain)
	}
	ctx, endSpan := s.n.traceServe(ctx, m.Header, s.box, f.name) // trace.go
	res, err := s.call(ctx, s.box, f.name, args...)
	endSpan(err)
	if err != nil {
		kind, msg := kindName(err)
		s.fail(m, kind, msg)
		return
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	data, err := wire.AppendParams((*bp)[:0], f.typ.Results, res)
	*bp = data[:0]
	if err != nil {
		s.fail(m, "error", fmt.Sprintf("the results of %s do not match its type: %v", f.name, err))
		return
	}
	if err := m.Respond(data); err != nil {
		s.n.log.Debug("answering a remote call", "box", s.box, "func", f.name, "err", err)
	}
}

// fail answers m with an error.
func (s *service) fail(m *nats.Msg, kind, msg string) {
	r := &nats.Msg{Subject: m.Reply, Data: []byte(msg), Header: nats.Header{hdrError: []string{kind}, hdrNode: []string{s.n.cfg.Name}}}
	if err := m.RespondMsg(r); err != nil {
		s.n.log.Debug("answering a remote call", "box", s.box, "err", err)
	}
}

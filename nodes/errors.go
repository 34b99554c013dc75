package nodes

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

// Kinds of RemoteError.
var (
	// ErrUnreachable: no node of the cluster serves the box (NATS found no
	// responder for its subject).
	ErrUnreachable = errors.New("unreachable")
	// ErrTimeout: no answer came before the call's deadline.
	ErrTimeout = errors.New("no answer in time")
	// ErrRemote: the node serving the box answered with an error.
	ErrRemote = errors.New("failed on the remote node")
	// ErrWire: the values could not be encoded or the answer decoded.
	ErrWire = errors.New("bad values")
)

// RemoteError explains why a remote call failed. Calls through a remote
// arrow return it inside a *kernel.TaskError whose Kind is the kernel's
// closest sentinel (kernel.ErrUnavailable for ErrUnreachable,
// kernel.ErrCancelled for ErrTimeout, the remote kernel's own kind for
// ErrRemote), so errors.Is works with both vocabularies.
type RemoteError struct {
	Box, Func string
	// Node is the node that answered, if one did.
	Node string
	// Kind is ErrUnreachable, ErrTimeout, ErrRemote or ErrWire.
	Kind error
	// Msg is the remote node's error message (ErrRemote).
	Msg string
	// Waited is how long the caller waited (ErrTimeout).
	Waited time.Duration
	// Cluster names the cluster searched (ErrUnreachable).
	Cluster string
	Err     error
}

func (e *RemoteError) Error() string {
	switch e.Kind {
	case ErrUnreachable:
		return fmt.Sprintf("unreachable: no node of cluster %q serves box %q (its node is down, or the box is not placed anywhere)", e.Cluster, e.Box)
	case ErrTimeout:
		return fmt.Sprintf("no answer from box %q within %s", e.Box, e.Waited.Round(time.Millisecond))
	case ErrRemote:
		return fmt.Sprintf("on node %s: %s", e.Node, e.Msg)
	case ErrWire:
		if e.Node != "" {
			return fmt.Sprintf("bad answer from node %s: %v", e.Node, e.Err)
		}
		return fmt.Sprintf("bad values: %v", e.Err)
	}
	return fmt.Sprintf("%v: %v", e.Kind, e.Err)
}

func (e *RemoteError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// kindNames name the kernel's error kinds on the wire.
var kindNames = []struct {
	name string
	kind error
}{
	{"overloaded", kernel.ErrOverloaded},
	{"trap", kernel.ErrTrap},
	{"call-timeout", kernel.ErrCallTimeout},
	{"memory-quota", kernel.ErrMemoryQuota},
	{"panic", kernel.ErrPanic},
	{"reentrant", kernel.ErrReentrant},
	{"arrow", kernel.ErrArrow},
	{"task-failed", kernel.ErrTaskFailed},
	{"unavailable", kernel.ErrUnavailable},
	{"stopped", kernel.ErrStopped},
	{"no-task", kernel.ErrNoTask},
	{"no-func", kernel.ErrNoFunc},
	{"cancelled", kernel.ErrCancelled},
	{"closed", kernel.ErrClosed},
	{"invalid-call", kernel.ErrInvalidCall},
	{"exited", kernel.ErrExited},
}

// kindName names the kind of a call error for the wire, and returns its
// detail: the message without the TaskError's "task": func: kind prefix
// (the caller's TaskError says those again).
func kindName(err error) (string, string) {
	msg := err.Error()
	var te *kernel.TaskError
	if !errors.As(err, &te) {
		return "error", msg
	}
	prefix := fmt.Sprintf("%q: %s: %s", te.Task, te.Func, te.Kind)
	if te.Func == "" {
		prefix = fmt.Sprintf("%q: %s", te.Task, te.Kind)
	}
	if rest, ok := strings.CutPrefix(te.Error(), prefix); ok {
		msg = strings.TrimPrefix(rest, ": ")
		if te.Error() != err.Error() { // wrapped: keep the outer context
			msg = err.Error()
		}
	}
	if msg == "" {
		msg = te.Kind.Error()
	}
	for _, k := range kindNames {
		if te.Kind == k.kind {
			return k.name, msg
		}
	}
	return "error", msg
}

// kindOf is the kernel sentinel named name; kernel.ErrArrow for names it
// does not know.
func kindOf(name string) error {
	for _, k := range kindNames {
		if k.name == name {
			return k.kind
		}
	}
	return kernel.ErrArrow
}

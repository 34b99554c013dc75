package nodes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The desired state of the cluster, in the JetStream KV bucket wbox_state:
//
//	deployment  the topology last deployed (a Deployment; the bucket keeps
//	            the last DeploymentHistory revisions: the deployment history)
//	assignment  where each box and driver of it runs (an Assignment),
//	            written by the reconciler alone
//
// A write to either is announced on wbox.<cluster>.state.changed (core
// NATS), so the nodes apply it at once rather than at their next poll.

const (
	stateBucket   = "wbox_state"
	deploymentKey = "deployment"
	assignmentKey = "assignment"
)

// DeploymentHistory is how many deployments the state bucket keeps.
const DeploymentHistory = 64

// Deployment is a topology deployed to the cluster: its text, the digests
// of its components (in the components store), and what placement needs to
// know of its tasks.
type Deployment struct {
	// Revision is the deployment's revision in the state bucket (set when
	// read; it grows with every deployment).
	Revision uint64 `json:"-"`
	// Time is when it was deployed, Who by whom (user@host) and Node
	// through which node.
	Time time.Time `json:"time"`
	Who  string    `json:"who"`
	Node string    `json:"node"`
	// File is the topology's name as the user gave it, Dir the absolute
	// directory its relative paths were resolved against (on Node), YAML
	// its text.
	File string `json:"file"`
	Dir  string `json:"dir"`
	YAML string `json:"yaml"`
	// Components maps each box to its component's digest.
	Components map[string]string `json:"components"`
	// Tasks are the boxes and drivers to place, in the topology's order.
	Tasks []Task `json:"tasks"`
}

// Task is a box or driver as placement sees it.
type Task struct {
	Name string `json:"name"`
	// Driver is the driver's kind; empty for a box.
	Driver string `json:"driver,omitempty"`
	// Instances is a box's pool size: with several, the box is spread over
	// up to that many nodes.
	Instances int `json:"instances,omitempty"`
	// Node pins the task to a node; Labels restrict it to nodes with all
	// of them.
	Node   string            `json:"node,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Every runs the task on every node it may run on (a stateless
	// driver, such as the HTTP ingress); otherwise it runs on one node (or
	// Instances nodes).
	Every bool `json:"every,omitempty"`
	// With lists tasks this one must run beside: a box bound to a driver
	// that runs on one node (its state is there) follows the driver.
	With []string `json:"with,omitempty"`
}

// Assignment is where the tasks of a deployment run, decided by the
// reconciler.
type Assignment struct {
	// Revision is the assignment's revision in the state bucket (set when
	// read).
	Revision uint64 `json:"-"`
	// Deployment is the revision of the deployment it places.
	Deployment uint64    `json:"deployment"`
	Time       time.Time `json:"time"`
	// By is the node that decided it (the reconciler).
	By string `json:"by"`
	// Tasks maps each task to where it runs.
	Tasks map[string]Placed `json:"tasks"`
}

// Placed is where one task runs.
type Placed struct {
	// Nodes are the nodes that run the task, sorted; none when no live
	// node may run it.
	Nodes []string `json:"nodes"`
	// Instances is a box's pool size on each of its nodes.
	Instances int `json:"instances,omitempty"`
	// Why explains the choice.
	Why string `json:"why"`
}

// On reports whether the task runs on node.
func (p Placed) On(node string) bool { return slices.Contains(p.Nodes, node) }

// samePlacement reports whether two assignments place every task alike
// (reasons aside).
func samePlacement(a, b map[string]Placed) bool {
	return maps.EqualFunc(a, b, func(x, y Placed) bool {
		return slices.Equal(x.Nodes, y.Nodes) && x.Instances == y.Instances
	})
}

// ErrNoDeployment: nothing was deployed to the cluster yet.
var ErrNoDeployment = errors.New("nothing is deployed to the cluster")

// state returns the state bucket, creating it unless only existing is
// true (then ErrNoDeployment when there is none). It is created by the
// first deployment, so that it is replicated on as many members as the
// cluster has then (Config.Replicas), not on the first one alone.
func (n *Node) state(ctx context.Context, existing ...bool) (jetstream.KeyValue, error) {
	n.stateMu.Lock()
	kv := n.stateKV
	n.stateMu.Unlock()
	if kv != nil {
		return kv, nil
	}
	// Waiting for JetStream (a seed alone has none) must not hold stateMu:
	// other callers have deadlines of their own.
	js, err := n.JetStream(ctx)
	if err != nil {
		return nil, err
	}
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	if n.stateKV != nil {
		return n.stateKV, nil
	}
	if len(existing) > 0 && existing[0] {
		kv, err := js.KeyValue(ctx, stateBucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, ErrNoDeployment
		}
		if err != nil {
			return nil, fmt.Errorf("the state bucket: %w", err)
		}
		n.stateKV = kv
		return kv, nil
	}
	kv, err = retry(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		if kv, err := js.KeyValue(ctx, stateBucket); err == nil {
			return kv, nil
		}
		// Create only: updating an existing bucket with this node's
		// replica count (a node that just started knows few members)
		// would shrink it. The reconciler grows it (leadStreams).
		return js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      stateBucket,
			Description: "wbox desired state: the deployed topology and where its boxes run",
			History:     DeploymentHistory,
			Replicas:    n.replicas(),
			Storage:     jetstream.FileStorage,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("the state bucket: %w", err)
	}
	n.stateKV = kv
	return kv, nil
}

func (n *Node) stateSubject() string { return n.prefix + ".state.changed" }

// announce tells every node that the desired state changed.
func (n *Node) announce() { n.nc.Publish(n.stateSubject(), nil) }

// StateChanged returns a channel that receives (coalesced) when a node
// announces a new deployment or assignment, and a function that stops it.
func (n *Node) StateChanged() (<-chan struct{}, func(), error) {
	c := make(chan struct{}, 1)
	sub, err := n.nc.Subscribe(n.stateSubject(), func(*nats.Msg) {
		select {
		case c <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("watching the cluster's state: %w", err)
	}
	return c, func() { sub.Unsubscribe() }, nil
}

// Deploy stores d as the cluster's deployment (its components must be in
// the components store already: PutComponent) and returns its revision.
// The reconciler places it.
func (n *Node) Deploy(ctx context.Context, d *Deployment) (uint64, error) {
	for box, digest := range d.Components {
		if _, err := digestHex(digest); err != nil {
			return 0, fmt.Errorf("box %q: %w", box, err)
		}
	}
	kv, err := n.state(ctx)
	if err != nil {
		return 0, err
	}
	if d.Time.IsZero() {
		d.Time = time.Now().UTC()
	}
	if d.Node == "" {
		d.Node = n.cfg.Name
	}
	b, err := json.Marshal(d)
	if err != nil {
		return 0, err
	}
	rev, err := retry(ctx, func(ctx context.Context) (uint64, error) { return kv.Put(ctx, deploymentKey, b) })
	if err != nil {
		return 0, fmt.Errorf("storing the deployment of %s: %w", d.File, err)
	}
	d.Revision = rev
	n.announce()
	return rev, nil
}

// Deployment returns the cluster's current deployment, or ErrNoDeployment.
func (n *Node) Deployment(ctx context.Context) (*Deployment, error) {
	kv, err := n.state(ctx, true)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, deploymentKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrNoDeployment
	}
	if err != nil {
		return nil, fmt.Errorf("reading the deployment: %w", err)
	}
	return decodeDeployment(e)
}

func decodeDeployment(e jetstream.KeyValueEntry) (*Deployment, error) {
	var d Deployment
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		return nil, fmt.Errorf("deployment revision %d: %w", e.Revision(), err)
	}
	d.Revision = e.Revision()
	return &d, nil
}

// Deployments returns the deployment history, oldest first (at most
// DeploymentHistory).
func (n *Node) Deployments(ctx context.Context) ([]*Deployment, error) {
	kv, err := n.state(ctx, true)
	if errors.Is(err, ErrNoDeployment) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	es, err := kv.History(ctx, deploymentKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the deployment history: %w", err)
	}
	var ds []*Deployment
	for _, e := range es {
		if e.Operation() != jetstream.KeyValuePut {
			continue
		}
		d, err := decodeDeployment(e)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// Assignment returns where the tasks of the current deployment run, or
// ErrNoDeployment when nothing was placed yet.
func (n *Node) Assignment(ctx context.Context) (*Assignment, error) {
	kv, err := n.state(ctx, true)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, assignmentKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrNoDeployment
	}
	if err != nil {
		return nil, fmt.Errorf("reading the assignment: %w", err)
	}
	var a Assignment
	if err := json.Unmarshal(e.Value(), &a); err != nil {
		return nil, fmt.Errorf("assignment revision %d: %w", e.Revision(), err)
	}
	a.Revision = e.Revision()
	return &a, nil
}

// writeAssignment replaces the assignment of revision prev (0: none yet)
// with a, failing if someone else wrote one since.
func (n *Node) writeAssignment(ctx context.Context, a *Assignment, prev uint64) error {
	kv, err := n.state(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	var rev uint64
	if prev == 0 {
		rev, err = kv.Create(ctx, assignmentKey, b)
	} else {
		rev, err = kv.Update(ctx, assignmentKey, b, prev)
	}
	if err != nil {
		return fmt.Errorf("writing the assignment: %w", err)
	}
	a.Revision = rev
	n.announce()
	return nil
}

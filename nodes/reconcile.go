package nodes

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ReconcilerLease is the lease the reconciler holds.
const ReconcilerLease = "reconciler"

// Reconcile runs this node's part of the reconciler until ctx ends: once
// something is deployed, it campaigns for ReconcilerLease; while it holds
// it, it places the current deployment on the live members (Place) and
// writes the assignment whenever the deployment or the members change, so
// a lost member's boxes are re-placed on the survivors within a heartbeat
// sweep. Every node runs it; one at a time does the work.
func (n *Node) Reconcile(ctx context.Context) error {
	changed, stop, err := n.StateChanged()
	if err != nil {
		return err
	}
	defer stop()
	membersChanged := n.MembersChanged()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// Nothing is created before the first deployment: it creates the
	// state bucket with as many replicas as the cluster has then.
	for {
		if _, err := n.state(ctx, true); err == nil {
			break
		} else if !errors.Is(err, ErrNoDeployment) && ctx.Err() == nil {
			n.log.Debug("reconciler: waiting for the state bucket", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-tick.C:
		}
	}
	for ctx.Err() == nil {
		lease, err := n.Campaign(ctx, ReconcilerLease)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			n.log.Warn("reconciler: campaigning", "err", err)
			continue
		}
		n.reconcileHeld(ctx, lease, changed, membersChanged, tick.C)
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		lease.Release(rctx)
		cancel()
	}
	return nil
}

// reconcileHeld places deployments while the lease is held.
func (n *Node) reconcileHeld(ctx context.Context, lease *Lease, changed <-chan struct{}, membersChanged <-chan struct{}, tick <-chan time.Time) {
	// A node that just started may not have heard every member yet: it
	// must not move boxes away from members it does not know of.
	settle := time.Until(n.members.self.Started.Add(time.Duration(n.cfg.MissedBeats) * n.cfg.Heartbeat))
	if settle > 0 {
		select {
		case <-ctx.Done():
			return
		case <-lease.Lost():
			return
		case <-time.After(settle):
		}
	}
	n.leadStreams(ctx)
	routes := time.NewTicker(250 * time.Millisecond)
	defer routes.Stop()
	peers := n.Peers()
	ticks := 0
	for {
		if err := n.reconcileOnce(ctx, lease); err != nil && ctx.Err() == nil {
			n.log.Warn("reconciler", "err", err)
		}
	wait:
		select {
		case <-ctx.Done():
			return
		case <-lease.Lost():
			return
		case <-changed:
		case <-membersChanged:
		case <-tick:
			if ticks++; ticks%10 == 0 {
				n.leadStreams(ctx)
			}
		case <-routes.C:
			// A member whose server's route closed (its process died:
			// the kernel closes its sockets) is gone before it misses
			// a heartbeat.
			now := n.Peers()
			same := slices.Equal(now, peers)
			peers = now
			if same {
				goto wait
			}
		}
	}
}

// LiveMembers returns the members placement may use: the members this node
// hears, minus those whose embedded server has no route to ours any more
// (in a cluster of embedded servers every server routes to every other,
// and heartbeats travel only on those routes, so a member without a route
// is about to be lost anyway).
func (n *Node) LiveMembers() []Member {
	ms := n.Members()
	if n.srv == nil || n.RouteURL() == "" {
		return ms
	}
	peers := n.Peers()
	return slices.DeleteFunc(ms, func(m Member) bool {
		return !m.Self && m.RouteURL != "" && !slices.Contains(peers, m.Name)
	})
}

// leadStreams asks JetStream to move the leaders of the state and leases
// streams to this node (the reconciler): then the loss of another node
// never stalls the reconciler's writes while those streams elect a new
// leader (seconds), which would delay failover by as much. It also grows
// the replicas of the cluster's streams (state, leases, components) when
// the cluster has grown since they were created (up to three). Best
// effort.
func (n *Node) leadStreams(ctx context.Context) {
	js, err := jetstream.New(n.nc)
	if err != nil {
		return
	}
	for _, name := range []string{"KV_" + stateBucket, "KV_" + leasesBucket, "OBJ_" + componentsBucket} {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := js.Stream(actx, name)
		cancel()
		if err != nil {
			continue
		}
		if cfg := st.CachedInfo().Config; n.cfg.Replicas == 0 && cfg.Replicas < n.replicas() {
			cfg.Replicas = n.replicas()
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := js.UpdateStream(actx, cfg)
			cancel()
			if err != nil {
				n.log.Warn("reconciler: growing a stream's replicas", "stream", name, "replicas", cfg.Replicas, "err", err)
			} else {
				n.log.Info("reconciler: grew a stream's replicas", "stream", name, "replicas", cfg.Replicas)
			}
			continue // its leader may change: move it next time
		}
		if name == "OBJ_"+componentsBucket {
			continue
		}
		ci := st.CachedInfo().Cluster
		if ci == nil || ci.Leader == n.cfg.Name || len(ci.Replicas) == 0 {
			continue
		}
		req, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": n.cfg.Name}})
		if _, err := n.nc.Request("$JS.API.STREAM.LEADER.STEPDOWN."+name, req, time.Second); err != nil {
			n.log.Debug("reconciler: moving a stream leader here", "stream", name, "err", err)
			continue
		}
		n.log.Info("reconciler: moved a stream's leader here", "stream", name, "from", ci.Leader)
	}
}

// reconcileOnce places the current deployment on the live members, and
// writes the assignment if it differs from the one stored.
func (n *Node) reconcileOnce(ctx context.Context, lease *Lease) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := n.Deployment(ctx)
	if errors.Is(err, ErrNoDeployment) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := n.Assignment(ctx)
	if err != nil && !errors.Is(err, ErrNoDeployment) {
		return err
	}
	var prev map[string]Placed
	var prevRev uint64
	if old != nil {
		prev, prevRev = old.Tasks, old.Revision
	}
	live := n.LiveMembers()
	a := &Assignment{Deployment: d.Revision, Time: time.Now().UTC(), By: n.cfg.Name, Tasks: Place(d.Tasks, live, prev)}
	if old != nil && old.Deployment == d.Revision && samePlacement(old.Tasks, a.Tasks) {
		return nil
	}
	if !lease.Held() {
		return nil
	}
	if err := n.writeAssignment(ctx, a, prevRev); err != nil {
		return err
	}
	n.log.Info("placed the deployment", "deployment", d.Revision, "assignment", a.Revision, "members", len(live))
	return nil
}

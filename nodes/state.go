package nodes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Cluster state in JetStream: component binaries in an object store keyed
// by their digest, and leases (one node at a time does a job) in a KV
// bucket whose entries expire.

const (
	componentsBucket = "wbox_components"
	leasesBucket     = "wbox_leases"
)

// DefaultLeaseTTL is how long a lease outlives its holder's last renewal.
const DefaultLeaseTTL = 4 * time.Second

// replicas is how many copies JetStream keeps of cluster state:
// Config.Replicas, else three when the cluster has three JetStream servers
// or more, else as many as it has. The servers are the members with a
// route URL: edge nodes (--leaf) run no JetStream, and a node alone has
// one. On an external NATS (--nats), whose servers are not members, every
// member counts.
// Replicas is how many copies JetStream keeps of cluster state (see
// replicas): the kv driver's backend jetstream keeps as many of its data.
func (n *Node) Replicas() int { return n.replicas() }

func (n *Node) replicas() int {
	if n.cfg.Replicas > 0 {
		return n.cfg.Replicas
	}
	servers := 0
	for _, m := range n.Members() {
		if m.RouteURL != "" || n.cfg.NATS != "" {
			servers++
		}
	}
	return min(3, max(1, servers))
}

// ErrDigest: a component binary does not hash to its digest.
var ErrDigest = errors.New("digest mismatch")

// Digest returns the content address of a component binary:
// "sha256:<hex>".
func Digest(wasm []byte) string {
	s := sha256.Sum256(wasm)
	return "sha256:" + hex.EncodeToString(s[:])
}

func digestHex(digest string) (string, error) {
	h, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(h) != 64 {
		return "", fmt.Errorf("digest %q: want sha256:<64 hex digits>", digest)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("digest %q: want sha256:<64 hex digits>", digest)
	}
	return strings.ToLower(h), nil
}

func (n *Node) components(ctx context.Context) (jetstream.ObjectStore, error) {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	if n.objs != nil {
		return n.objs, nil
	}
	js, err := n.JetStream(ctx)
	if err != nil {
		return nil, err
	}
	store, err := retry(ctx, func(ctx context.Context) (jetstream.ObjectStore, error) {
		if s, err := js.ObjectStore(ctx, componentsBucket); err == nil {
			return s, nil
		}
		// Create only: never shrink an existing store (see state).
		return js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      componentsBucket,
			Description: "wbox component binaries by sha256 digest",
			Replicas:    n.replicas(),
			Storage:     jetstream.FileStorage,
			Compression: true,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("the components store: %w", err)
	}
	n.objs = store
	return store, nil
}

// retry runs a JetStream API call until it succeeds or ctx ends, each
// attempt bounded: an API request made while the cluster's leaders change
// may never be answered, and a lasting refusal (no quorum yet, peers not
// known yet) may pass.
func retry[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, err := f(actx)
		cancel()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PutComponent stores a component binary in the cluster, under its digest,
// and returns the digest. Storing it again costs one lookup.
func (n *Node) PutComponent(ctx context.Context, wasm []byte) (string, error) {
	digest := Digest(wasm)
	h, _ := digestHex(digest)
	store, err := n.components(ctx)
	if err != nil {
		return "", err
	}
	if info, err := store.GetInfo(ctx, h); err == nil && info.Size == uint64(len(wasm)) {
		return digest, nil
	}
	// Retried: a store created a moment ago may not have a leader yet
	// (no responders).
	if _, err := retry(ctx, func(ctx context.Context) (*jetstream.ObjectInfo, error) { return store.PutBytes(ctx, h, wasm) }); err != nil {
		return "", fmt.Errorf("storing component %s: %w", digest, err)
	}
	n.cache(h, wasm)
	return digest, nil
}

// Component returns the component binary of digest: from the node's cache
// (DataDir/components), else from the cluster's object store, checking
// that it hashes to its digest either way.
func (n *Node) Component(ctx context.Context, digest string) ([]byte, error) {
	h, err := digestHex(digest)
	if err != nil {
		return nil, err
	}
	if n.cfg.DataDir != "" {
		if b, err := os.ReadFile(filepath.Join(n.cfg.DataDir, "components", h+".wasm")); err == nil && Digest(b) == digest {
			return b, nil
		}
	}
	store, err := n.components(ctx)
	if err != nil {
		return nil, err
	}
	b, err := store.GetBytes(ctx, h)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("component %s is not in the cluster's store: %w", digest, err)
		}
		return nil, fmt.Errorf("fetching component %s: %w", digest, err)
	}
	if got := Digest(b); got != digest {
		return nil, fmt.Errorf("%w: the cluster's copy of %s hashes to %s", ErrDigest, digest, got)
	}
	n.cache(h, b)
	return b, nil
}

// cache keeps a component binary in the data directory (best effort).
func (n *Node) cache(h string, b []byte) {
	if n.cfg.DataDir == "" {
		return
	}
	dir := filepath.Join(n.cfg.DataDir, "components")
	path := filepath.Join(dir, h+".wasm")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return
	}
	if os.MkdirAll(dir, 0o755) != nil {
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, path)
	}
}

// Lease is a job only one node does at a time (the reconciler): held while
// its holder renews it, free again LeaseTTL after the last renewal, so a
// dead holder is replaced within that time. Leases live in JetStream: a
// part of the cluster without a JetStream majority can neither take nor
// keep one, so two parts never both hold it.
type Lease struct {
	n    *Node
	kv   jetstream.KeyValue
	name string
	ttl  time.Duration

	mu      sync.Mutex
	rev     uint64
	renewed time.Time // when the last successful renewal was sent
	lost    chan struct{}
	done    chan struct{}
	stop    chan struct{}
	once    sync.Once
}

func (n *Node) leases(ctx context.Context) (jetstream.KeyValue, error) {
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	if n.leaseKV != nil {
		return n.leaseKV, nil
	}
	js, err := n.JetStream(ctx)
	if err != nil {
		return nil, err
	}
	kv, err := retry(ctx, func(ctx context.Context) (jetstream.KeyValue, error) {
		if kv, err := js.KeyValue(ctx, leasesBucket); err == nil {
			return kv, nil
		}
		// Create only: never shrink an existing bucket (see state).
		return js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      leasesBucket,
			Description: "wbox leases: who does what alone",
			History:     1,
			TTL:         n.cfg.LeaseTTL,
			Replicas:    n.replicas(),
			Storage:     jetstream.FileStorage,
		})
	})
	if err != nil {
		return nil, fmt.Errorf("the leases bucket: %w", err)
	}
	n.leaseKV = kv
	return kv, nil
}

// Campaign waits until this node holds the lease name (a key token:
// letters, digits, '-', '_'), or ctx ends. The node renews it every third
// of LeaseTTL; Lost is closed when a renewal fails for good (another node
// took it, or JetStream was unreachable past the TTL). Release it to hand
// it over at once.
func (n *Node) Campaign(ctx context.Context, name string) (*Lease, error) {
	if err := checkName("lease name", name); err != nil {
		return nil, err
	}
	kv, err := n.leases(ctx)
	if err != nil {
		return nil, err
	}
	ttl := n.cfg.LeaseTTL
	t := time.NewTicker(ttl / 8)
	defer t.Stop()
	for {
		sent := time.Now()
		actx, cancel := context.WithTimeout(ctx, ttl/2)
		rev, err := kv.Create(actx, name, []byte(n.cfg.Name))
		cancel()
		if err == nil {
			l := &Lease{n: n, kv: kv, name: name, ttl: ttl, rev: rev, renewed: sent,
				lost: make(chan struct{}), done: make(chan struct{}), stop: make(chan struct{})}
			go l.renew()
			n.log.Info("lease taken", "lease", name)
			return l, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			n.log.Debug("campaigning", "lease", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// LeaseHolder returns the node holding the lease name, or "".
func (n *Node) LeaseHolder(ctx context.Context, name string) (string, error) {
	kv, err := n.leases(ctx)
	if err != nil {
		return "", err
	}
	e, err := kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

func (l *Lease) renew() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		rev := l.rev
		l.mu.Unlock()
		sent := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		nrev, err := l.kv.Update(ctx, l.name, []byte(l.n.cfg.Name), rev)
		cancel()
		l.mu.Lock()
		if err == nil {
			l.rev, l.renewed = nrev, sent
		}
		expired := !l.heldLocked()
		l.mu.Unlock()
		if err != nil && (errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) || expired) {
			// Someone else holds it now, or it may have expired.
			l.n.log.Warn("lease lost", "lease", l.name, "err", err)
			close(l.lost)
			return
		}
	}
}

// Held reports whether the lease is surely still held: its last renewal
// was sent less than 9/10 of the TTL ago (JetStream counts the TTL from
// when it stored the renewal, a little later). Check it before each action
// that only the holder may take.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.heldLocked()
}

func (l *Lease) heldLocked() bool {
	select {
	case <-l.lost:
		return false
	default:
	}
	return time.Since(l.renewed) < l.ttl*9/10
}

// Lost is closed when the lease is lost.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Release stops renewing the lease and frees it for the others at once
// (unless it was lost already).
func (l *Lease) Release(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		select {
		case <-l.lost:
			return
		default:
		}
		l.mu.Lock()
		rev := l.rev
		l.mu.Unlock()
		err = l.kv.Delete(ctx, l.name, jetstream.LastRevision(rev))
		l.n.log.Info("lease released", "lease", l.name)
	})
	return err
}

package kv

import "context"

// backend is where a kv driver keeps its data: a bbolt file (store, the
// default) or a JetStream key-value bucket (jsStore, setting backend:
// jetstream). Both keep the same semantics, except that a JetStream
// compare-and-swap compares revisions, not values (see doc.go).
type backend interface {
	get(ctx context.Context, ns, bucket, key string) ([]byte, bool, error)
	exists(ctx context.Context, ns, bucket, key string) (bool, error)
	set(ctx context.Context, ns, bucket, key string, val []byte) error
	delete(ctx context.Context, ns, bucket, key string) (bool, error)
	increment(ctx context.Context, ns, bucket, key string, delta int64) (int64, error)
	// casGet reads what a compare-and-swap starts from.
	casGet(ctx context.Context, ns, bucket, key string) (casState, error)
	// casSwap stores val if key is still as seen; else it reports the
	// current state and swapped false.
	casSwap(ctx context.Context, ns, bucket, key string, seen casState, val []byte) (swapped bool, cur casState, err error)
	getMany(ctx context.Context, ns, bucket string, keys []string) ([][]byte, []bool, error)
	setMany(ctx context.Context, ns, bucket string, keys []string, vals [][]byte) error
	deleteMany(ctx context.Context, ns, bucket string, keys []string) error
	listKeys(ctx context.Context, ns, bucket, cursor string) ([]string, string, error)
	close() error
}

// casState is a key as a compare-and-swap saw it: its value (had false:
// absent) and, in JetStream, its revision.
type casState struct {
	had bool
	val []byte
	rev uint64
}

// boltBackend is the bbolt store as a backend.
type boltBackend struct{ st *store }

var _ backend = boltBackend{}

func (b boltBackend) get(_ context.Context, ns, bucket, key string) ([]byte, bool, error) {
	return b.st.get(ns, bucket, key)
}

func (b boltBackend) exists(_ context.Context, ns, bucket, key string) (bool, error) {
	return b.st.exists(ns, bucket, key)
}

func (b boltBackend) set(ctx context.Context, ns, bucket, key string, val []byte) error {
	return b.st.set(ctx, ns, bucket, key, val)
}

func (b boltBackend) delete(ctx context.Context, ns, bucket, key string) (bool, error) {
	return b.st.delete(ctx, ns, bucket, key)
}

func (b boltBackend) increment(ctx context.Context, ns, bucket, key string, delta int64) (int64, error) {
	return b.st.increment(ctx, ns, bucket, key, delta)
}

func (b boltBackend) casGet(_ context.Context, ns, bucket, key string) (casState, error) {
	v, ok, err := b.st.get(ns, bucket, key)
	return casState{had: ok, val: v}, err
}

func (b boltBackend) casSwap(ctx context.Context, ns, bucket, key string, seen casState, val []byte) (bool, casState, error) {
	swapped, had, cur, err := b.st.swap(ctx, ns, bucket, key, seen.had, seen.val, val)
	return swapped, casState{had: had, val: cur}, err
}

func (b boltBackend) getMany(_ context.Context, ns, bucket string, keys []string) ([][]byte, []bool, error) {
	return b.st.getMany(ns, bucket, keys)
}

func (b boltBackend) setMany(ctx context.Context, ns, bucket string, keys []string, vals [][]byte) error {
	return b.st.setMany(ctx, ns, bucket, keys, vals)
}

func (b boltBackend) deleteMany(ctx context.Context, ns, bucket string, keys []string) error {
	return b.st.deleteMany(ctx, ns, bucket, keys)
}

func (b boltBackend) listKeys(_ context.Context, ns, bucket, cursor string) ([]string, string, error) {
	return b.st.listKeys(ns, bucket, cursor)
}

func (b boltBackend) close() error { return b.st.close() }

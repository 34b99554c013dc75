package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Limits of what the store accepts; a larger key, value or batch is refused
// with an error naming the limit.
const (
	MaxKeyBytes    = 4096    // a key, in bytes
	MaxValueBytes  = 1 << 20 // a value, in bytes
	MaxBucketBytes = 255     // a bucket identifier, in bytes
	MaxBatchKeys   = 1000    // keys in one get-many, set-many or delete-many
	listPageKeys   = 1000    // keys in one page of list-keys
	maxGroupOps    = 1024    // writes coalesced into one transaction
)

// DefaultBucket is the bucket wbox:kv/store@0.1.0 reads and writes in the
// caller's namespace: wasi:keyvalue's open("default") sees the same data.
const DefaultBucket = "default"

// ErrStopped is returned by operations on a store whose driver stopped.
var ErrStopped = errors.New("the kv driver is stopped")

// ErrNotInteger is returned by Increment when the key holds a value that is
// not a decimal integer.
var ErrNotInteger = errors.New("the value is not a decimal integer")

// store is one open bbolt database with its group-commit writer.
//
// Layout: a top-level bucket per namespace ("box/NAME" or "shared/NAME"),
// inside it a bucket per identifier a box opened, holding the keys.
//
// Writes are coalesced: one writer goroutine takes every write queued while
// the previous transaction was committing and runs them all in one
// read-write transaction, so concurrent writers share one fsync. A write
// returns only after its transaction is committed (fsync'd), so every
// acknowledged write survives a crash. Reads run in their own read-only
// transactions, concurrently with each other and with the writer.
type store struct {
	db     *bolt.DB
	writes chan *writeOp
	quit   chan struct{} // closed by close: the writer drains and exits
	done   chan struct{} // closed when the writer exited
	once   sync.Once
}

type writeOp struct {
	fn   func(tx *bolt.Tx) error // its error is its own: the others still commit
	err  error
	done chan struct{}
}

func openStore(ctx context.Context, path string) (*store, error) {
	// Another driver (the one this one replaces) may hold the file's lock
	// for a moment: wait for it, but not past ctx.
	for {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 200 * time.Millisecond})
		if err == nil {
			s := &store{db: db, writes: make(chan *writeOp, maxGroupOps), quit: make(chan struct{}), done: make(chan struct{})}
			go s.writer()
			return s, nil
		}
		if !errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("opening %s: another process holds its lock: %w", path, ctx.Err())
		}
	}
}

// close stops the writer after the writes already queued and closes the
// database (which waits for running reads).
func (s *store) close() error {
	s.once.Do(func() { close(s.quit) })
	<-s.done
	return s.db.Close()
}

// writer commits queued writes in groups.
func (s *store) writer() {
	defer close(s.done)
	group := make([]*writeOp, 0, maxGroupOps)
	for {
		var op *writeOp
		select {
		case op = <-s.writes:
		case <-s.quit:
			// Serve what is still queued, then refuse (update checks quit).
			for {
				select {
				case op := <-s.writes:
					s.commit([]*writeOp{op})
				default:
					return
				}
			}
		}
		group = append(group[:0], op)
	drain:
		for len(group) < maxGroupOps {
			select {
			case op := <-s.writes:
				group = append(group, op)
			default:
				break drain
			}
		}
		s.commit(group)
	}
}

func (s *store) commit(group []*writeOp) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, op := range group {
			op.err = op.fn(tx)
		}
		return nil
	})
	for _, op := range group {
		if err != nil {
			op.err = fmt.Errorf("committing: %w", err)
		}
		close(op.done)
	}
}

// update runs fn in a committed read-write transaction shared with other
// concurrent writes. fn must only touch what it owns and report its own
// failure by its error (the transaction commits anyway).
func (s *store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	op := &writeOp{fn: fn, done: make(chan struct{})}
	select {
	case <-s.quit:
		return ErrStopped
	default:
	}
	select {
	case s.writes <- op:
	case <-s.quit:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write happens: wait for its outcome, not for ctx. A
	// write queued as the writer was exiting is never run.
	select {
	case <-op.done:
		return op.err
	case <-s.done:
		select {
		case <-op.done:
			return op.err
		default:
			return ErrStopped
		}
	}
}

func (s *store) view(fn func(tx *bolt.Tx) error) error {
	err := s.db.View(fn)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrStopped
	}
	return err
}

// bucketOf returns the bucket ns/name in a read transaction, or nil.
func bucketOf(tx *bolt.Tx, ns, name string) *bolt.Bucket {
	top := tx.Bucket([]byte(ns))
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(name))
}

// createBucket returns the bucket ns/name in a write transaction, creating
// it.
func createBucket(tx *bolt.Tx, ns, name string) (*bolt.Bucket, error) {
	top, err := tx.CreateBucketIfNotExists([]byte(ns))
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w", ns, err)
	}
	b, err := top.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", name, err)
	}
	return b, nil
}

func checkKey(key string) error {
	if len(key) == 0 {
		return errors.New("empty key")
	}
	if len(key) > MaxKeyBytes {
		return fmt.Errorf("key of %d bytes: keys are at most %d bytes", len(key), MaxKeyBytes)
	}
	return nil
}

func checkValue(v []byte) error {
	if len(v) > MaxValueBytes {
		return fmt.Errorf("value of %d bytes: values are at most %d bytes", len(v), MaxValueBytes)
	}
	return nil
}

func checkBucket(name string) error {
	if len(name) == 0 {
		return errors.New("empty bucket identifier")
	}
	if len(name) > MaxBucketBytes {
		return fmt.Errorf("bucket identifier of %d bytes: identifiers are at most %d bytes", len(name), MaxBucketBytes)
	}
	return nil
}

// get returns a copy of the value of key, and whether it exists.
func (s *store) get(ns, bucket, key string) ([]byte, bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	var v []byte
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		if b := bucketOf(tx, ns, bucket); b != nil {
			if got := b.Get([]byte(key)); got != nil {
				v, ok = bytes.Clone(got), true
			}
		}
		return nil
	})
	return v, ok, err
}

func (s *store) exists(ns, bucket, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		if b := bucketOf(tx, ns, bucket); b != nil {
			ok = b.Get([]byte(key)) != nil
		}
		return nil
	})
	return ok, err
}

func (s *store) set(ctx context.Context, ns, bucket, key string, val []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkValue(val); err != nil {
		return err
	}
	if val == nil {
		val = []byte{} // bbolt stores nil as empty, but reads it back as absent
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, err := createBucket(tx, ns, bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), val)
	})
}

// delete removes key and reports whether it was there.
func (s *store) delete(ctx context.Context, ns, bucket, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	var had bool
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := bucketOf(tx, ns, bucket)
		if b == nil {
			return nil
		}
		had = b.Get([]byte(key)) != nil
		if !had {
			return nil
		}
		return b.Delete([]byte(key))
	})
	return had, err
}

// increment adds delta to the decimal integer stored under key (absent is
// 0) and stores the sum as decimal ASCII text.
func (s *store) increment(ctx context.Context, ns, bucket, key string, delta int64) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	var n int64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, err := createBucket(tx, ns, bucket)
		if err != nil {
			return err
		}
		var cur int64
		if old := b.Get([]byte(key)); old != nil {
			cur, err = strconv.ParseInt(string(old), 10, 64)
			if err != nil {
				return fmt.Errorf("increment %q: %w (it holds %d bytes)", key, ErrNotInteger, len(old))
			}
		}
		if (delta > 0 && cur > maxInt64-delta) || (delta < 0 && cur < minInt64-delta) {
			return fmt.Errorf("increment %q: %d + %d overflows a signed 64-bit integer", key, cur, delta)
		}
		n = cur + delta
		return b.Put([]byte(key), strconv.AppendInt(nil, n, 10))
	})
	return n, err
}

const (
	maxInt64 = 1<<63 - 1
	minInt64 = -1 << 63
)

// swap stores val under key if the key still holds what the compare-and-swap
// saw (had, old); otherwise it reports the current value and swapped false.
func (s *store) swap(ctx context.Context, ns, bucket, key string, had bool, old, val []byte) (swapped bool, curHad bool, cur []byte, err error) {
	if err := checkValue(val); err != nil {
		return false, false, nil, err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b, err := createBucket(tx, ns, bucket)
		if err != nil {
			return err
		}
		got := b.Get([]byte(key))
		if (got != nil) != had || (had && !bytes.Equal(got, old)) {
			curHad, cur = got != nil, bytes.Clone(got)
			return nil
		}
		if val == nil {
			val = []byte{}
		}
		swapped = true
		return b.Put([]byte(key), val)
	})
	return swapped, curHad, cur, err
}

// getMany returns the values of keys (nil entries for absent keys).
func (s *store) getMany(ns, bucket string, keys []string) ([][]byte, []bool, error) {
	if len(keys) > MaxBatchKeys {
		return nil, nil, fmt.Errorf("%d keys: a batch has at most %d", len(keys), MaxBatchKeys)
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, nil, err
		}
	}
	vals, oks := make([][]byte, len(keys)), make([]bool, len(keys))
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketOf(tx, ns, bucket)
		if b == nil {
			return nil
		}
		for i, k := range keys {
			if got := b.Get([]byte(k)); got != nil {
				vals[i], oks[i] = bytes.Clone(got), true
			}
		}
		return nil
	})
	return vals, oks, err
}

// setMany stores every pair in one transaction.
func (s *store) setMany(ctx context.Context, ns, bucket string, keys []string, vals [][]byte) error {
	if len(keys) > MaxBatchKeys {
		return fmt.Errorf("%d keys: a batch has at most %d", len(keys), MaxBatchKeys)
	}
	for i, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
		if err := checkValue(vals[i]); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, err := createBucket(tx, ns, bucket)
		if err != nil {
			return err
		}
		for i, k := range keys {
			v := vals[i]
			if v == nil {
				v = []byte{}
			}
			if err := b.Put([]byte(k), v); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	})
}

func (s *store) deleteMany(ctx context.Context, ns, bucket string, keys []string) error {
	if len(keys) > MaxBatchKeys {
		return fmt.Errorf("%d keys: a batch has at most %d", len(keys), MaxBatchKeys)
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := bucketOf(tx, ns, bucket)
		if b == nil {
			return nil
		}
		for _, k := range keys {
			if err := b.Delete([]byte(k)); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	})
}

// listKeys returns up to listPageKeys keys after cursor (all from the
// first when cursor is ""), in byte order, and the cursor of the next page
// ("" when there is none).
func (s *store) listKeys(ns, bucket, cursor string) ([]string, string, error) {
	keys := []string{}
	next := ""
	err := s.view(func(tx *bolt.Tx) error {
		b := bucketOf(tx, ns, bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k []byte
		if cursor == "" {
			k, _ = c.First()
		} else {
			k, _ = c.Seek([]byte(cursor))
			if k != nil && string(k) == cursor {
				k, _ = c.Next()
			}
		}
		for ; k != nil; k, _ = c.Next() {
			if len(keys) == listPageKeys {
				next = keys[len(keys)-1]
				break
			}
			keys = append(keys, string(k))
		}
		return nil
	})
	return keys, next, err
}

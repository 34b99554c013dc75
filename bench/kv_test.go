package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/kernel"
)

// kvPair is the kv driver (its Go entry points: the store behind
// wasi:keyvalue, group commit included) and raw bbolt, each in its own file
// in the same directory, both fsyncing every commit.
type kvPair struct {
	d   *kv.Driver
	raw *bolt.DB
}

func newKVPair(b *testing.B) *kvPair {
	b.Helper()
	dir := b.TempDir()
	n, err := kv.New(kernel.DriverSpec{Name: "kv", Kind: kv.Kind}, kernel.DriverEnv{DataDir: filepath.Join(dir, "driver")})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	raw, err := bolt.Open(filepath.Join(dir, "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("b")); return err }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
		raw.Close()
	})
	return &kvPair{d: n.(*kv.Driver), raw: raw}
}

func (p *kvPair) driverSet(b *testing.B, i int) {
	if err := p.d.Set(context.Background(), "app", "b", fmt.Sprintf("key%06d", i%100000), []byte("a value of some thirty bytes..")); err != nil {
		b.Error(err) // Fatal may not run off the benchmark's goroutine
	}
}

func (p *kvPair) rawSet(b *testing.B, i int) {
	err := p.raw.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "key%06d", i%100000), []byte("a value of some thirty bytes.."))
	})
	if err != nil {
		b.Error(err)
	}
}

// parallel runs n operations over g goroutines.
func parallel(g, n int, op func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				op(i)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkKVSet: durable sets through the kv driver vs raw bbolt
// (db.Update, one fsync'd transaction per write), by one writer and by 16
// concurrent writers. The driver's group commit shares one fsync among the
// writes queued meanwhile, so with concurrent writers it is several times
// faster than raw bbolt; alone it pays a goroutine hand-off.
func BenchmarkKVSet(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			p := newKVPair(b)
			pair(b, 64,
				func(n int) { parallel(writers, n, func(i int) { p.rawSet(b, i) }) },
				func(n int) { parallel(writers, n, func(i int) { p.driverSet(b, i) }) })
		})
	}
}

// BenchmarkKVGet: reads of a present key through the kv driver (a bbolt
// read transaction, namespace and bucket lookups, a copy of the value) vs
// raw bbolt db.View, 16 concurrent readers.
func BenchmarkKVGet(b *testing.B) {
	p := newKVPair(b)
	for i := range 1000 {
		p.driverSet(b, i)
		p.rawSet(b, i)
	}
	ctx := context.Background()
	pair(b, 1000,
		func(n int) {
			parallel(16, n, func(i int) {
				err := p.raw.View(func(tx *bolt.Tx) error {
					if tx.Bucket([]byte("b")).Get(fmt.Appendf(nil, "key%06d", i%1000)) == nil {
						return fmt.Errorf("key %d missing", i%1000)
					}
					return nil
				})
				if err != nil {
					b.Error(err)
				}
			})
		},
		func(n int) {
			parallel(16, n, func(i int) {
				if _, ok, err := p.d.Get(ctx, "app", "b", fmt.Sprintf("key%06d", i%1000)); err != nil || !ok {
					b.Errorf("get: %v %v", ok, err)
				}
			})
		})
}

package bench

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/kernel"
)

// BenchmarkKVJetStreamIncrement: the kv driver with backend: jetstream
// (its Go entry point, the store behind wasi:keyvalue/atomics.increment)
// against the plain nats.go KeyValue read-then-Update loop on a bucket of
// the same in-process nats-server: the cost of the driver's own reads and
// writes (stream last-message reads, message IDs, key encoding).
func BenchmarkKVJetStreamIncrement(b *testing.B) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: b.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	raw, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "raw", History: 1, Storage: jetstream.FileStorage})
	if err != nil {
		b.Fatal(err)
	}
	n, err := kv.NewFactory(kv.Options{JetStream: func(context.Context) (jetstream.JetStream, error) { return js, nil }})(
		kernel.DriverSpec{Name: "kv", Kind: kv.Kind, Settings: map[string]any{"backend": kv.BackendJetStream}}, kernel.DriverEnv{})
	if err != nil {
		b.Fatal(err)
	}
	d := n.(*kv.Driver)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	rawIncr := func() {
		for {
			e, err := raw.Get(ctx, "n")
			var cur int64
			var rev uint64
			if err == nil {
				cur, _ = strconv.ParseInt(string(e.Value()), 10, 64)
				rev = e.Revision()
			} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
				b.Fatal(err)
			}
			if _, err := raw.Update(ctx, "n", strconv.AppendInt(nil, cur+1, 10), rev); err == nil {
				return
			} else if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				b.Fatal(err)
			}
		}
	}
	pair(b, 100, func(n int) {
		for range n {
			rawIncr()
		}
	}, func(n int) {
		for range n {
			if _, err := d.Increment(ctx, "app", "b", "n", 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

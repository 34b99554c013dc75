package kv

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream's key alphabet, as nats.go checks it.
var jsKeyRe = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)

// FuzzJetStreamKey: any namespace, bucket and key (guest-chosen bytes)
// make a valid JetStream key of three tokens, which decodes back, and the
// driver's bucket name is valid for any driver name.
func FuzzJetStreamKey(f *testing.F) {
	f.Add("box/web", "default", "k")
	f.Add("shared/shop", "b.c", "we/ird key.*>\x00\xff")
	f.Add("box/a", "-", "....")
	f.Fuzz(func(t *testing.T, ns, bucket, key string) {
		if ns == "" || checkBucket(bucket) != nil || checkJSKey(key) != nil {
			return
		}
		k := jsKey(ns, bucket, key)
		if !jsKeyRe.MatchString(k) || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			t.Fatalf("jsKey(%q, %q, %q) = %q: not a JetStream key", ns, bucket, key, k)
		}
		parts := strings.Split(k, ".")
		if len(parts) != 3 {
			t.Fatalf("jsKey(%q, %q, %q) = %q: %d tokens", ns, bucket, key, k, len(parts))
		}
		for i, want := range []string{ns, bucket, key} {
			got, err := enc.DecodeString(parts[i])
			if err != nil || string(got) != want {
				t.Fatalf("token %d of %q decodes to %q, %v; want %q", i, k, got, err, want)
			}
		}
		if !strings.HasPrefix(k, jsPrefix(ns, bucket)) {
			t.Fatalf("%q lacks its prefix %q", k, jsPrefix(ns, bucket))
		}
		if b := jsBucketName(ns); !regexp.MustCompile(`^[a-zA-Z0-9_-]+$`).MatchString(b) {
			t.Fatalf("jsBucketName(%q) = %q", ns, b)
		}
	})
}

func startJetStreamStore(t *testing.T) *jsStore {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openJetStream(t.Context(), js, "kv.test", 1)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A JetStream compare-and-swap compares revisions: a key changed and
// changed back (A → B → A) is a conflict, and the conflict reports the
// current value and revision, from which a swap succeeds. A deleted key is
// absent to cas, and a swap over the delete stores.
func TestJetStreamSwapComparesRevisions(t *testing.T) {
	st := startJetStreamStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ns, b = "box/app", "b"
	if err := st.set(ctx, ns, b, "k", []byte("A")); err != nil {
		t.Fatal(err)
	}
	seen, err := st.casGet(ctx, ns, b, "k")
	if err != nil || !seen.had || string(seen.val) != "A" {
		t.Fatalf("casGet = %+v, %v", seen, err)
	}
	st.set(ctx, ns, b, "k", []byte("B"))
	st.set(ctx, ns, b, "k", []byte("A"))
	swapped, cur, err := st.casSwap(ctx, ns, b, "k", seen, []byte("mine"))
	if err != nil || swapped || string(cur.val) != "A" || cur.rev <= seen.rev {
		t.Fatalf("swap after A → B → A: swapped %v, current %+v, %v: want a conflict at a later revision", swapped, cur, err)
	}
	if swapped, _, err := st.casSwap(ctx, ns, b, "k", cur, []byte("mine")); err != nil || !swapped {
		t.Fatalf("swap at the current revision: %v, %v", swapped, err)
	}
	if had, err := st.delete(ctx, ns, b, "k"); err != nil || !had {
		t.Fatalf("delete = %v, %v", had, err)
	}
	if had, err := st.delete(ctx, ns, b, "k"); err != nil || had {
		t.Fatalf("second delete = %v, %v", had, err)
	}
	gone, err := st.casGet(ctx, ns, b, "k")
	if err != nil || gone.had {
		t.Fatalf("casGet of a deleted key = %+v, %v", gone, err)
	}
	if swapped, _, err := st.casSwap(ctx, ns, b, "k", gone, []byte("again")); err != nil || !swapped {
		t.Fatalf("swap over a delete: %v, %v", swapped, err)
	}
	if v, ok, err := st.get(ctx, ns, b, "k"); err != nil || !ok || string(v) != "again" {
		t.Fatalf("get = %q, %v, %v", v, ok, err)
	}
	if n, err := st.increment(ctx, ns, b, "n", 3); err != nil || n != 3 {
		t.Fatalf("increment = %d, %v", n, err)
	}
}

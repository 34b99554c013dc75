package nodes

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestComponentStore(t *testing.T) {
	ns := startCluster(t, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wasm := bytes.Repeat([]byte("\x00asm component "), 10_000)
	var digest string
	waitFor(t, 15*time.Second, "JetStream to place the store on three peers", func() bool {
		var err error
		digest, err = ns[0].PutComponent(ctx, wasm)
		if err != nil && !strings.Contains(err.Error(), "peer") {
			t.Fatal(err)
		}
		return err == nil
	})
	if digest != Digest(wasm) || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("digest %s", digest)
	}
	if d2, err := ns[1].PutComponent(ctx, wasm); err != nil || d2 != digest {
		t.Errorf("storing again: %s %v", d2, err)
	}
	// Another node fetches it, checks it, and caches it.
	b, err := ns[2].Component(ctx, digest)
	if err != nil || !bytes.Equal(b, wasm) {
		t.Fatalf("fetch: %d bytes, %v", len(b), err)
	}
	h, _ := digestHex(digest)
	if c, err := os.ReadFile(filepath.Join(ns[2].cfg.DataDir, "components", h+".wasm")); err != nil || !bytes.Equal(c, wasm) {
		t.Errorf("not cached: %v", err)
	}
	// A corrupt cache entry is ignored.
	os.WriteFile(filepath.Join(ns[2].cfg.DataDir, "components", h+".wasm"), []byte("junk"), 0o644)
	if b, err := ns[2].Component(ctx, digest); err != nil || !bytes.Equal(b, wasm) {
		t.Errorf("with a corrupt cache: %v", err)
	}
	// A tampered object in the store is refused.
	js, _ := ns[0].JetStream(ctx)
	store, _ := js.ObjectStore(ctx, componentsBucket)
	other := Digest([]byte("other"))
	oh, _ := digestHex(other)
	if _, err := store.PutBytes(ctx, oh, []byte("not other")); err != nil {
		t.Fatal(err)
	}
	if _, err := ns[1].Component(ctx, other); !errors.Is(err, ErrDigest) {
		t.Errorf("tampered: %v, want ErrDigest", err)
	}
	if _, err := ns[1].Component(ctx, Digest([]byte("absent"))); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Errorf("absent: %v", err)
	}
	if _, err := ns[1].Component(ctx, "md5:00"); err == nil {
		t.Error("a bad digest was accepted")
	}
}

func TestLease(t *testing.T) {
	ns := startCluster(t, 3, func(_ int, c *Config) { c.LeaseTTL = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := ns[0].JetStream(ctx); err != nil {
		t.Fatal(err)
	}
	type won struct {
		n *Node
		l *Lease
	}
	wins := make(chan won, 3)
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, n := range ns {
		go func() {
			for {
				l, err := n.Campaign(cctx, "reconciler")
				if err != nil {
					if cctx.Err() == nil && !strings.Contains(err.Error(), "peer") {
						t.Error(err)
					}
					if cctx.Err() != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
					continue
				}
				wins <- won{n, l}
				return
			}
		}()
	}
	first := <-wins
	// Held: nobody else gets it while it is renewed, for several TTLs.
	select {
	case w := <-wins:
		t.Fatalf("%s and %s both hold the lease", first.n.Name(), w.n.Name())
	case <-time.After(3 * time.Second):
	}
	if !first.l.Held() {
		t.Error("the holder does not know it holds the lease")
	}
	if h, err := ns[0].LeaseHolder(ctx, "reconciler"); err != nil || h != first.n.Name() {
		t.Errorf("holder %q %v, want %s", h, err, first.n.Name())
	}
	// Released: another node takes it at once.
	start := time.Now()
	if err := first.l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	second := <-wins
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("a released lease took %s to change hands", d)
	}
	if second.n == first.n {
		t.Fatal("the releasing node took it again")
	}
	// Its holder dies: the last node takes it within about a TTL.
	start = time.Now()
	second.n.srv.Shutdown()
	<-second.l.Lost() // its renewals fail: it knows it lost the lease
	if second.l.Held() {
		t.Error("a lost lease is held")
	}
	third := <-wins
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a dead holder's lease took %s to change hands", d)
	}
	t.Logf("released lease taken over in under a TTL; dead holder's after %s (TTL 1s)", time.Since(start).Round(time.Millisecond))
	third.l.Release(ctx)
	second.l.Release(ctx)
}

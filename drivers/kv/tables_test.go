package kv

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/wasmhost"
)

// An instance's bucket table goes with the instance: once its imports (and
// so its bucket type) are garbage, the driver forgets the table.
func TestBucketTablesGoWithTheirInstance(t *testing.T) {
	n, err := New(kernel.DriverSpec{Name: "kv", Kind: Kind}, kernel.DriverEnv{})
	if err != nil {
		t.Fatal(err)
	}
	d := n.(*Driver)
	tables := func() int {
		c := 0
		d.tables.Range(func(any, any) bool { c++; return true })
		return c
	}
	func() {
		for range 3 {
			im := wasmhost.NewImports()
			if err := d.Bind("app", StoreIface, im.Instance(StoreIface)); err != nil {
				t.Fatal(err)
			}
			if err := d.Bind("app", AtomicsIface, im.Instance(AtomicsIface)); err != nil {
				t.Fatal(err)
			}
		}
	}()
	if got := tables(); got != 3 {
		t.Fatalf("%d tables after binding 3 instances", got)
	}
	// Cleanups run on their own goroutine after a GC: wait for them.
	deadline := time.Now().Add(30 * time.Second)
	for tables() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d tables left after their instances are gone", tables())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// Writes racing the store's close either commit or fail with ErrStopped;
// none hangs.
func TestWritesRacingClose(t *testing.T) {
	for range 20 {
		st, err := openStore(t.Context(), t.TempDir()+"/kv.db")
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 64)
		for i := range 64 {
			go func() { errs <- st.set(t.Context(), "box/a", "b", fmt.Sprint("k", i), []byte("v")) }()
		}
		if err := st.close(); err != nil {
			t.Fatal(err)
		}
		for range 64 {
			if err := <-errs; err != nil && !errors.Is(err, ErrStopped) {
				t.Fatal(err)
			}
		}
	}
}

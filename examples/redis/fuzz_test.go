package redis

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

// FuzzRedisKV feeds arbitrary bytes to the redis-kv box's RESP parser (its
// wbox:tcp/handler data export, in a kernel with a real kv driver): the box
// must never trap, never consume more than it was given, and either make
// progress, answer, close, or wait for more bytes.
func FuzzRedisKV(f *testing.F) {
	for _, s := range []string{
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n",
		"PING\r\nSET a 1 EX 10\r\nMGET a b\r\nTTL a\r\n",
		"*2\r\n$3\r\nGET\r\n$10\r\nabc",
		"*1\r\n$-1\r\n",
		"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
	} {
		f.Add([]byte(s))
	}
	wasm, err := os.ReadFile(testcomponents.Path(f, "redis-kv"))
	if err != nil {
		f.Fatal(err)
	}
	cache, _ := os.UserCacheDir()
	k, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		DataDir:  f.TempDir(),
		CacheDir: filepath.Join(cache, "wbox", "test-compiled"),
		Drivers:  map[string]kernel.DriverFactory{kv.Kind: kv.New},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		k.Close(ctx)
	})
	var arrows []kernel.Arrow
	for _, i := range []string{"store", "atomics", "batch"} {
		iface := "wasi:keyvalue/" + i + "@0.2.0-draft2"
		arrows = append(arrows, kernel.Arrow{Import: iface, Target: "kv", Export: iface})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := k.Apply(ctx, &kernel.Plan{
		Start:        []kernel.BoxSpec{{Name: "redis", Wasm: wasm, Instances: 1, Arrows: arrows}},
		StartDrivers: []kernel.DriverSpec{{Name: "kv", Kind: kv.Kind}},
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := k.Call(ctx, "redis", "wbox:tcp/handler@0.1.0#data", uint64(1), bytes.Clone(in))
		if err != nil {
			t.Fatalf("data(%q): %v", in, err)
		}
		rec := res[0].([]any)
		consumed, output, closed, need := rec[0].(uint32), rec[1].([]byte), rec[2].(bool), rec[3].(uint32)
		if int(consumed) > len(in) {
			t.Fatalf("data(%q) consumed %d of %d bytes", in, consumed, len(in))
		}
		if consumed == 0 && !closed && len(in) > 0 && len(output) > 0 {
			t.Fatalf("data(%q) answered %q without consuming anything", in, output)
		}
		if need != 0 && int(need) <= len(in)-int(consumed) {
			t.Fatalf("data(%q) needs %d bytes but has %d unconsumed", in, need, len(in)-int(consumed))
		}
		if closed && !bytes.HasPrefix(output, []byte("-")) && !bytes.HasSuffix(output, []byte("+OK\r\n")) && !bytes.Contains(output, []byte("-ERR")) {
			t.Fatalf("data(%q) closed without an error or QUIT: %q", in, output)
		}
	})
}

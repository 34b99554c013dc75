package bench

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

// BenchmarkTCPRoundTrip is the tcp driver's own cost, without a store: one
// client sends a line and waits for it back, through the tcp driver and the
// tcp-lines box (C) in a kernel, against a plain Go server echoing lines
// over the same loopback (goroutine per connection, bufio), interleaved.
func BenchmarkTCPRoundTrip(b *testing.B) {
	wasm, err := os.ReadFile(testcomponents.Path(b, "tcp-lines"))
	if err != nil {
		b.Fatal(err)
	}
	var tcp *tcpdriver.Driver
	factory := func(spec kernel.DriverSpec, env kernel.DriverEnv) (kernel.Native, error) {
		n, err := tcpdriver.New(spec, env)
		if err == nil {
			tcp = n.(*tcpdriver.Driver)
		}
		return n, err
	}
	cache, _ := os.UserCacheDir()
	k, err := kernel.New(kernel.Config{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		CacheDir: filepath.Join(cache, "wbox", "test-compiled"),
		Drivers:  map[string]kernel.DriverFactory{tcpdriver.Kind: factory},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		k.Close(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := k.Apply(ctx, &kernel.Plan{
		Start:        []kernel.BoxSpec{{Name: "lines", Wasm: wasm, Instances: 1}},
		StartDrivers: []kernel.DriverSpec{{Name: "port", Kind: tcpdriver.Kind, Settings: map[string]any{"listen": "127.0.0.1:0", "box": "lines"}}},
	}); err != nil {
		b.Fatal(err)
	}
	<-tcp.Ready()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r, w := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					line, err := r.ReadSlice('\n')
					if err != nil {
						return
					}
					w.Write(line)
					if r.Buffered() == 0 && w.Flush() != nil {
						return
					}
				}
			}()
		}
	}()

	client := func(addr string) func(n int) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		r := bufio.NewReader(c)
		msg := []byte("a 32-byte line for the round trip\n")[:32]
		msg[31] = '\n'
		return func(n int) {
			for range n {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadSlice('\n'); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	pair(b, 200, client(l.Addr().String()), client(tcp.Addr().String()))
}

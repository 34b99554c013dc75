package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/bench/redisnative"
	"github.com/wbox-dev/wbox/drivers/kv"
	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/internal/testcomponents"
	"github.com/wbox-dev/wbox/kernel"
)

// BenchmarkRedis runs Debian's redis-benchmark (GET and SET, 50 clients)
// against
//
//   - wbox: the tcp driver, the redis-kv box (C) and the kv driver (bbolt),
//     as examples/redis/topology.yaml wires them, in one kernel;
//   - native: bench/redisnative, a plain Go RESP server on the same kv
//     driver (what the box and the tcp driver cost over Go);
//   - redis: redis-server (Debian package redis-server, in memory, as
//     configured by default: no fsync per write);
//   - redis-fsync: redis-server with appendfsync always, durable per write
//     as the kv driver is;
//
// round-robin, in the same run (rounds rotate the order), and reports each
// one's median requests per second and the ratios. redis-server is
// optional (its columns are left out when it is missing). bench/redis.sh
// runs it; REDIS_BENCH_N, REDIS_BENCH_ROUNDS, REDIS_BENCH_CLIENTS and
// REDIS_BENCH_PIPELINE tune it, REDIS_BENCH_TARGETS=wbox,native picks targets (to profile one).
func BenchmarkRedis(b *testing.B) {
	bench, err := exec.LookPath("redis-benchmark")
	if err != nil {
		b.Skip("redis-benchmark is missing: apt-get install redis-tools (and redis-server for its baselines)")
	}
	requests := envInt("REDIS_BENCH_N", 20000)
	rounds := envInt("REDIS_BENCH_ROUNDS", 3)
	clients := envInt("REDIS_BENCH_CLIENTS", 50)
	pipeline := envInt("REDIS_BENCH_PIPELINE", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	targets := []target{
		{name: "wbox", addr: startWboxRedis(b, ctx)},
		{name: "native", addr: startNativeRedis(b, ctx)},
	}
	if server, err := exec.LookPath("redis-server"); err == nil {
		targets = append(targets,
			target{name: "redis", addr: startRedisServer(b, server, "--save", "", "--appendonly", "no")},
			target{name: "redis-fsync", addr: startRedisServer(b, server, "--save", "", "--appendonly", "yes", "--appendfsync", "always")})
	} else {
		b.Log("redis-server is missing (apt-get install redis-server): no redis-server baselines")
	}

	if only := os.Getenv("REDIS_BENCH_TARGETS"); only != "" { // e.g. "wbox" to profile it alone
		targets = slices.DeleteFunc(targets, func(t target) bool { return !slices.Contains(strings.Split(only, ","), t.name) })
	}
	tests := []string{"SET", "GET"}
	rps := map[string]map[string][]float64{} // target -> test -> requests/s per round
	for _, t := range targets {
		rps[t.name] = map[string][]float64{}
	}
	b.ResetTimer()
	for round := range rounds {
		for _, test := range tests {
			for i := range targets {
				t := targets[(i+round)%len(targets)]
				rps[t.name][test] = append(rps[t.name][test], runRedisBenchmark(b, bench, t.addr, test, requests, clients, pipeline))
			}
		}
	}
	b.StopTimer()

	var out strings.Builder
	fmt.Fprintf(&out, "redis-benchmark -c %d -P %d -n %d, %d rounds, median requests/s:\n", clients, pipeline, requests, rounds)
	for _, t := range targets {
		for _, test := range tests {
			b.ReportMetric(median(rps[t.name][test]), t.name+"-"+strings.ToLower(test)+"-rps")
		}
		fmt.Fprintf(&out, "  %-12s SET %9.0f  GET %9.0f   (rounds: SET %v, GET %v)\n", t.name,
			median(rps[t.name]["SET"]), median(rps[t.name]["GET"]), rounds0(rps[t.name]["SET"]), rounds0(rps[t.name]["GET"]))
	}
	// Ratios are taken per round (wbox against each baseline measured right
	// beside it), then their median: the machine's noise changes faster
	// than a whole run.
	fmt.Fprintf(&out, "wbox / baseline, median of per-round ratios (rounds):\n")
	for _, base := range []string{"native", "redis", "redis-fsync"} {
		if _, ok := rps[base]; !ok || base == "wbox" {
			continue
		}
		if _, ok := rps["wbox"]; !ok {
			continue
		}
		for _, test := range tests {
			var xs []float64
			for r := range rps["wbox"][test] {
				xs = append(xs, rps["wbox"][test][r]/rps[base][test][r])
			}
			x := median(xs)
			b.ReportMetric(x, "x-"+base+"-"+strings.ToLower(test))
			fmt.Fprintf(&out, "  wbox / %-12s %s %.3fx  %v\n", base, test, x, fmtRatios(xs))
		}
	}
	b.ReportMetric(0, "ns/op")
	fmt.Print(out.String())
}

type target struct{ name, addr string }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func fmtRatios(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.2f", x))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func rounds0(xs []float64) []int {
	r := make([]int, len(xs))
	for i, x := range xs {
		r[i] = int(x)
	}
	return r
}

// runRedisBenchmark runs one redis-benchmark test (SET or GET; random keys
// among 100000, 3-byte values) and returns its requests/s.
func runRedisBenchmark(b *testing.B, bench, addr, test string, n, clients, pipeline int) float64 {
	b.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bench, "-h", host, "-p", port, "-t", strings.ToLower(test), "-n", strconv.Itoa(n),
		"-c", strconv.Itoa(clients), "-P", strconv.Itoa(pipeline), "-r", "100000", "--csv")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("redis-benchmark against %s: %v\n%s", addr, err, stderr.String())
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		b.Fatalf("redis-benchmark output %q: %v", out, err)
	}
	for _, r := range recs {
		if len(r) >= 2 && r[0] == test {
			v, err := strconv.ParseFloat(r[1], 64)
			if err != nil || v <= 0 {
				b.Fatalf("redis-benchmark output %q: %v", out, err)
			}
			return v
		}
	}
	b.Fatalf("redis-benchmark output without %s: %q", test, out)
	return 0
}

// startWboxRedis runs the redis example's tasks in a kernel: a tcp driver
// on a free port, the redis-kv box (instances 64) and a kv driver.
func startWboxRedis(b *testing.B, ctx context.Context) string {
	b.Helper()
	wasm, err := os.ReadFile(testcomponents.Path(b, "redis-kv"))
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
		DataDir:  b.TempDir(),
		CacheDir: filepath.Join(cache, "wbox", "test-compiled"),
		Drivers:  map[string]kernel.DriverFactory{tcpdriver.Kind: factory, kv.Kind: kv.New},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		k.Close(c)
	})
	var arrows []kernel.Arrow
	for _, i := range []string{"store", "atomics", "batch"} {
		iface := "wasi:keyvalue/" + i + "@0.2.0-draft2"
		arrows = append(arrows, kernel.Arrow{Import: iface, Target: "kv", Export: iface})
	}
	actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err = k.Apply(actx, &kernel.Plan{
		Start: []kernel.BoxSpec{{Name: "redis", Wasm: wasm, Instances: 64, Arrows: arrows,
			Limits: kernel.Limits{MemoryBytes: 64 << 20, CallTimeout: 5 * time.Second, MaxInFlight: 256}}},
		StartDrivers: []kernel.DriverSpec{
			{Name: "kv", Kind: kv.Kind},
			{Name: "redis-port", Kind: tcpdriver.Kind, Settings: map[string]any{"listen": "127.0.0.1:0", "box": "redis"}},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	select {
	case <-tcp.Ready():
	case <-actx.Done():
		b.Fatal("the tcp driver never listened")
	}
	return tcp.Addr().String()
}

// startNativeRedis runs bench/redisnative on its own kv driver.
func startNativeRedis(b *testing.B, ctx context.Context) string {
	b.Helper()
	n, err := kv.New(kernel.DriverSpec{Name: "kv", Kind: kv.Kind}, kernel.DriverEnv{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	store := n.(*kv.Driver)
	ctx, cancel := context.WithCancel(ctx)
	runDone, serveDone := make(chan error, 1), make(chan error, 1)
	go func() { runDone <- store.Run(ctx) }()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &redisnative.Server{Store: store, Caller: "redis"}
	go func() { serveDone <- srv.Serve(ctx, l) }()
	b.Cleanup(func() {
		cancel()
		<-serveDone
		<-runDone
	})
	return l.Addr().String()
}

// startRedisServer runs redis-server with args on a free port until the
// benchmark ends.
func startRedisServer(b *testing.B, server string, args ...string) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := b.TempDir()
	cmd := exec.Command(server, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("redis-server never listened: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

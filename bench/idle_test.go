package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleNode: the resident memory (VmRSS) of an idle `wbox node`
// running its embedded NATS server with JetStream, as the first node of a
// cluster does (--cluster-listen): the real binary, nothing deployed.
// Baseline: bench/idlebase, a bare nats-server embedded in a tiny Go
// program with the same server configuration (JetStream in a data
// directory, client and route ports, token auth). Both run side by side
// for the same idle time and are sampled together. x is wbox over
// baseline; issue 5's goal for the edge is an idle node <= 64 MiB.
// alone-MiB is a `wbox node` without cluster flags (no NATS at all).
// One op is the whole measurement.
func BenchmarkIdleNode(b *testing.B) {
	bin := buildWbox(b)
	base := filepath.Join(b.TempDir(), "idlebase")
	if out, err := exec.Command("go", "build", "-o", base, "./idlebase").CombinedOutput(); err != nil {
		b.Fatalf("go build idlebase: %v\n%s", err, out)
	}
	b.ResetTimer()
	var wboxMiB, baseMiB, aloneMiB, peakMiB float64
	for i := 0; i < b.N; i++ {
		wboxMiB, baseMiB, aloneMiB, peakMiB = idleOnce(b, bin, base)
	}
	b.StopTimer()
	b.ReportMetric(baseMiB, "base-MiB")
	b.ReportMetric(wboxMiB, "wbox-MiB")
	b.ReportMetric(wboxMiB/baseMiB, "x")
	b.ReportMetric(peakMiB, "wbox-peak-MiB")
	b.ReportMetric(aloneMiB, "alone-MiB")
	b.ReportMetric(0, "ns/op")
}

// idle is how long the processes sit before they are sampled, and
// samples how many times they are, a second apart (the median counts).
const (
	idle    = 5 * time.Second
	samples = 5
)

func idleOnce(b *testing.B, bin, base string) (wboxMiB, baseMiB, aloneMiB, peakMiB float64) {
	// wbox: a node that forms a cluster (embedded NATS, JetStream).
	port := freePort(b)
	dir := b.TempDir()
	node := startWbox(b, bin, "node", "--data", dir, "--name", "idle",
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--cluster-listen", "127.0.0.1:0")
	alone := b.TempDir()
	plain := startWbox(b, bin, "node", "--data", alone)

	// The baseline.
	bport := freePort(b)
	bc := exec.Command(base, "-data", b.TempDir(), "-port", strconv.Itoa(bport))
	stdin, err := bc.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := bc.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	bc.Stderr = os.Stderr
	if err := bc.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		bc.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("idlebase said %q", line)
		}
		ready <- err
		io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		b.Fatal("idlebase not ready in 30s")
	}
	waitStatus(b, dir, 60*time.Second, func(map[string]any) bool { return true })
	waitStatus(b, alone, 60*time.Second, func(map[string]any) bool { return true })
	// The node's NATS accepts connections: it is fully up.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the node's NATS port: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	time.Sleep(idle)
	var w, bs, a []float64
	for i := range samples {
		if i > 0 {
			time.Sleep(time.Second)
		}
		w = append(w, statusMiB(b, node.Process.Pid, "VmRSS"))
		bs = append(bs, statusMiB(b, bc.Process.Pid, "VmRSS"))
		a = append(a, statusMiB(b, plain.Process.Pid, "VmRSS"))
	}
	return medianMiB(w), medianMiB(bs), medianMiB(a), statusMiB(b, node.Process.Pid, "VmHWM")
}

// statusMiB reads a memory field (kB) of /proc/PID/status in MiB.
func statusMiB(b *testing.B, pid int, field string) float64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatalf("/proc/%d/status %s: %v", pid, field, err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

func medianMiB(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

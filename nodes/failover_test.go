package nodes

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

// Three nodes, each with its own kernel and embedded NATS server, clustered
// over routes on 127.0.0.1: box relay on n0 calls box leaf on n1 through a
// remote arrow. n1 dies without a word (its server vanishes, as under
// SIGKILL): calls fail at once as unreachable instead of hanging; n2 sees
// n1 lost and starts leaf (what the reconciler will do; the test does it on
// the membership signal), and relay's calls work again, its arrow
// unchanged. Then n1 comes back and rejoins.
func TestFailoverByHand(t *testing.T) {
	leafWasm := readComponent(t, "leaf")
	relayWasm := readComponent(t, "relay")
	const relayIface = "wbox:test/relay@0.1.0"
	ns := startCluster(t, 3, nil)
	ks := make([]*kernel.Kernel, 3)
	for i, n := range ns {
		ks[i] = newKernel(t, map[string]kernel.DriverFactory{RemoteKind: n.RemoteDriver(nil)})
	}
	exports := exportsOfWasm(t, ks[1], leafWasm)
	apply(t, ks[1], &kernel.Plan{Start: []kernel.BoxSpec{{Name: "leaf", Wasm: leafWasm}}})
	if err := ns[1].Serve("leaf", exports, ks[1].Call); err != nil {
		t.Fatal(err)
	}
	apply(t, ks[0], &kernel.Plan{
		StartDrivers: []kernel.DriverSpec{{Name: "leaf", Kind: RemoteKind, Settings: map[string]any{"exports": exports}}},
		Start: []kernel.BoxSpec{{Name: "relay", Wasm: relayWasm,
			Restart: kernel.RestartPolicy{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond},
			Arrows:  []kernel.Arrow{{Import: relayIface, Target: "leaf", Export: relayIface}}}},
	})
	p := []any{int32(1), int32(2)}
	want := []any{[]any{int32(1002), int32(3)}}
	call := func(timeout time.Duration) ([]any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return ks[0].Call(ctx, "relay", relayIface+"#call", p, uint32(1))
	}
	waitFor(t, 10*time.Second, "relay → leaf across nodes", func() bool {
		res, err := call(time.Second)
		return err == nil && reflect.DeepEqual(res, want)
	})
	waitFor(t, 5*time.Second, "n2 to see leaf on n1", func() bool { return slices.Equal(ns[2].Where("leaf"), []string{"n1"}) })

	lost := ns[2].MembersChanged()
	killed := time.Now()
	ns[1].srv.Shutdown()

	// The stand-in reports the dead box at once.
	waitFor(t, 5*time.Second, "leaf to be unreachable", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := ks[0].Call(ctx, "leaf", relayIface+"#call", p, uint32(0))
		return errors.Is(err, ErrUnreachable)
	})

	// n2 notices, and takes leaf over.
	for !slices.Equal(names(ns[2].Members()), []string{"n0", "n2"}) {
		select {
		case <-lost:
		case <-time.After(5 * time.Second):
			t.Fatalf("n2 did not notice n1's loss: members %v", names(ns[2].Members()))
		}
	}
	noticed := time.Since(killed)
	apply(t, ks[2], &kernel.Plan{Start: []kernel.BoxSpec{{Name: "leaf", Wasm: leafWasm}}})
	if err := ns[2].Serve("leaf", exports, ks[2].Call); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "relay → leaf on n2", func() bool {
		res, err := call(500 * time.Millisecond)
		return err == nil && reflect.DeepEqual(res, want)
	})
	t.Logf("n1 killed: loss noticed by n2 after %s, relay answering again after %s", noticed.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "n0 to see leaf on n2", func() bool { return slices.Equal(ns[0].Where("leaf"), []string{"n2"}) })

	// n1 comes back with its data directory (its token stored there) and
	// rejoins through n0.
	c := ns[1].cfg
	c.Token = ""
	c.Join = []string{ns[0].RouteURL()}
	closeNode(t, ns[1])
	back := startNode(t, c)
	waitFor(t, 5*time.Second, "n1 back in every view", func() bool {
		for _, n := range []*Node{ns[0], ns[2], back} {
			if !slices.Equal(names(n.Members()), []string{"n0", "n1", "n2"}) {
				return false
			}
		}
		return true
	})
	if res, err := call(5 * time.Second); err != nil || !reflect.DeepEqual(res, want) {
		t.Errorf("after n1's return: %v %v", res, err)
	}
}

package linker

import (
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

func baseSpec() *kernel.Spec {
	return &kernel.Spec{
		Boxes: []kernel.BoxSpec{
			{Name: "front", Digest: digest('a'), Instances: 1, Arrows: []kernel.Arrow{
				{Import: "wbox:hello/greet@0.1.0", Target: "greeter", Export: "wbox:hello/greet@0.1.0"},
				{Import: "wbox:hello/counter@0.1.0", Target: "counter", Export: "wbox:hello/counter@0.1.0"},
			}},
			{Name: "greeter", Digest: digest('b'), Instances: 1, Config: map[string]string{"greeting": "hi"}},
			{Name: "counter", Digest: digest('c'), Instances: 1, Arrows: []kernel.Arrow{
				{Import: "wbox:kv/store@0.1.0", Target: "kv", Export: "wbox:kv/store@0.1.0"},
			}},
		},
		Drivers: []kernel.DriverSpec{{Name: "kv", Kind: "kv", Settings: map[string]any{"file": "kv.json"}}},
	}
}

// snapshot is what a kernel that applied spec would report.
func snapshot(spec *kernel.Spec) kernel.Snapshot {
	s := kernel.Snapshot{Taken: time.Now(), Boxes: map[string]kernel.BoxStatus{}, Drivers: map[string]kernel.DriverStatus{}}
	for _, b := range spec.Boxes {
		s.Boxes[b.Name] = kernel.BoxStatus{Spec: b, Fingerprint: kernel.Fingerprint(b), ArrowsFingerprint: kernel.ArrowsFingerprint(b), State: kernel.StateRunning}
	}
	for _, d := range spec.Drivers {
		s.Drivers[d.Name] = kernel.DriverStatus{Spec: d, Fingerprint: kernel.DriverFingerprint(d), State: kernel.StateRunning}
	}
	return s
}

func TestDiffFromNothing(t *testing.T) {
	p := Diff(baseSpec(), snapshot(&kernel.Spec{}))
	if len(p.Start) != 3 || len(p.StartDrivers) != 1 || len(p.Keep)+len(p.Restart)+len(p.Rewire)+len(p.Stop) != 0 {
		t.Fatalf("plan = %+v", p)
	}
	want := `boxes:
  + start   counter  new box
  + start   front    new box
  + start   greeter  new box
drivers:
  + start   kv       new driver (kind kv)
plan: 4 to start, 0 to restart, 0 to rewire, 0 to stop, 0 unchanged
`
	if got := FormatPlan(p); got != want {
		t.Errorf("FormatPlan =\n%s\nwant\n%s", got, want)
	}
}

func TestDiffNoChange(t *testing.T) {
	p := Diff(baseSpec(), snapshot(baseSpec()))
	if !p.Empty() || len(p.Keep) != 3 || len(p.KeepDrivers) != 1 {
		t.Fatalf("plan = %+v", p)
	}
	// Arrow order does not matter.
	s := baseSpec()
	a := s.Boxes[0].Arrows
	a[0], a[1] = a[1], a[0]
	if p := Diff(s, snapshot(baseSpec())); !p.Empty() {
		t.Fatalf("reordered arrows: %+v", p)
	}
	want := `boxes:
  = keep    counter
  = keep    front
  = keep    greeter
drivers:
  = keep    kv
no changes: 3 boxes and 1 driver keep running
`
	if got := FormatPlan(p); got != want {
		t.Errorf("FormatPlan =\n%s\nwant\n%s", got, want)
	}
}

func TestDiffChanges(t *testing.T) {
	running := snapshot(baseSpec())
	s := baseSpec()
	s.Boxes[1].Digest = digest('d')                                                                    // greeter: new component
	s.Boxes[1].Config = map[string]string{"greeting": "ho", "lang": "en"}                              // and config
	s.Boxes[1].Limits.MemoryBytes = 32 << 20                                                           // and memory
	s.Boxes[0].Arrows[0].Target = "greeter2"                                                           // front: rewired
	s.Boxes = append(s.Boxes[:2], kernel.BoxSpec{Name: "greeter2", Digest: digest('e'), Instances: 1}) // counter: removed
	s.Drivers[0].Settings = map[string]any{"file": "other.json"}                                       // kv: restarted
	p := Diff(s, running)
	if len(p.Start) != 1 || p.Start[0].Name != "greeter2" ||
		len(p.Restart) != 1 || p.Restart[0].Name != "greeter" ||
		len(p.Rewire) != 1 || p.Rewire[0].Name != "front" ||
		len(p.Stop) != 1 || p.Stop[0] != "counter" ||
		len(p.RestartDrivers) != 1 || len(p.Keep) != 0 {
		t.Fatalf("plan = %+v", p)
	}
	want := `boxes:
  + start   greeter2  new box
  ~ restart greeter   component sha256:bbbbbbbbbbbb -> sha256:dddddddddddd; config ~greeting +lang; memory default -> 32MiB
  > rewire  front     arrows wbox:hello/greet@0.1.0 -> greeter2.wbox:hello/greet@0.1.0 (was greeter.wbox:hello/greet@0.1.0)
  - stop    counter   not in the topology
drivers:
  ~ restart kv        settings ~file
plan: 1 to start, 2 to restart, 1 to rewire, 1 to stop, 0 unchanged
`
	if got := FormatPlan(p); got != want {
		t.Errorf("FormatPlan =\n%s\nwant\n%s", got, want)
	}
}

func TestDiffRebindAndStopDriver(t *testing.T) {
	running := snapshot(baseSpec())
	s := baseSpec()
	s.Drivers[0].Kind = "bolt"
	p := Diff(s, running)
	if len(p.RestartDrivers) != 1 || p.Reasons["kv"] != "kind kv -> bolt" || p.Reasons["counter"] != "rebound to restarted kv" || len(p.Keep) != 3 {
		t.Fatalf("plan = %+v", p)
	}
	s.Drivers = nil
	s.Boxes = s.Boxes[:2]
	p = Diff(s, running)
	if len(p.StopDrivers) != 1 || p.StopDrivers[0] != "kv" || len(p.Stop) != 1 || p.Stop[0] != "counter" {
		t.Fatalf("plan = %+v", p)
	}
}

func TestDiffRestartReasons(t *testing.T) {
	for _, tc := range []struct {
		edit func(*kernel.BoxSpec)
		want string
	}{
		{func(b *kernel.BoxSpec) { b.Instances = 2 }, "instances 1 -> 2"},
		{func(b *kernel.BoxSpec) { b.Limits.CallTimeout = time.Second }, "call-timeout default -> 1s"},
		{func(b *kernel.BoxSpec) { b.Limits.MaxInFlight = 8 }, "max-in-flight default -> 8"},
		{func(b *kernel.BoxSpec) { b.Restart.Mode = "never" }, "restart policy changed"},
		{func(b *kernel.BoxSpec) { b.WASI.Stdout = true }, "wasi stdio grants changed"},
		{func(b *kernel.BoxSpec) { b.WASI.Env = map[string]string{"A": "1"} }, "wasi env +A"},
		{func(b *kernel.BoxSpec) { b.WASI.Args = []string{"x"} }, "wasi args changed"},
		{func(b *kernel.BoxSpec) { b.WASI.Dirs = []kernel.DirGrant{{HostDir: "/d", GuestPath: "/d"}} }, "wasi dirs changed"},
		{func(b *kernel.BoxSpec) { b.Config = nil }, "config -greeting"},
	} {
		s := baseSpec()
		tc.edit(&s.Boxes[1])
		p := Diff(s, snapshot(baseSpec()))
		if len(p.Restart) != 1 || p.Reasons["greeter"] != tc.want {
			t.Errorf("%s: restart %d, reason %q", tc.want, len(p.Restart), p.Reasons["greeter"])
		}
	}
}

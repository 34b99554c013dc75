package tsc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// machine simulates the two clocks of a machine: every read takes time
// (readCost of simulated nanoseconds), the TSC ticks at hz and the RTC
// shows whole seconds, failing while it updates (the first updateNs of
// every second, as the CMOS RTC's update-in-progress bit does).
type machine struct {
	now      time.Duration // since boot
	boot     time.Time
	hz       uint64
	readCost time.Duration
	updateNs time.Duration
	stuck    bool // the RTC never ticks
	rtcReads int
	tscReads int
}

func (m *machine) Now() (time.Time, error) {
	m.now += m.readCost
	m.rtcReads++
	if m.stuck {
		return m.boot.Truncate(time.Second), nil
	}
	t := m.boot.Add(m.now)
	if t.Sub(t.Truncate(time.Second)) < m.updateNs {
		return time.Time{}, errors.New("update in progress")
	}
	return t.Truncate(time.Second), nil
}

func (m *machine) Counter() uint64 {
	m.now += m.readCost
	m.tscReads++
	return uint64(m.now) * m.hz / uint64(time.Second)
}

func TestCalibrate(t *testing.T) {
	boot := time.Date(2026, 11, 25, 3, 0, 0, 700_000_000, time.UTC)
	for _, tc := range []struct {
		name    string
		hz      uint64
		seconds int
		cost    time.Duration
	}{
		{"1GHz one second", 1_000_000_000, 1, 900 * time.Nanosecond},
		{"2.4GHz three seconds", 2_400_000_000, 3, 2 * time.Microsecond},
		{"slow reads", 3_000_000_000, 2, 50 * time.Microsecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &machine{boot: boot, hz: tc.hz, readCost: tc.cost, updateNs: 244 * time.Microsecond}
			c, err := Calibrate(m, m, CalibrateOptions{Seconds: tc.seconds})
			if err != nil {
				t.Fatal(err)
			}
			// Each boundary is seen up to one RTC+TSC read late, at both ends.
			tol := uint64(4*tc.cost) * tc.hz / uint64(time.Second) / uint64(tc.seconds)
			if c.Hz+tol < tc.hz || c.Hz > tc.hz+tol {
				t.Errorf("Hz = %d, want %d ± %d", c.Hz, tc.hz, tol)
			}
			// It waits for the boundary after boot, then counts whole seconds.
			want := boot.Truncate(time.Second).Add(time.Duration(tc.seconds+1) * time.Second)
			if !c.Time.Equal(want) {
				t.Errorf("Time = %s, want %s (the last boundary)", c.Time, want)
			}
			if c.TSC == 0 || c.TSC > m.Counter() {
				t.Errorf("TSC at the last boundary = %d, beyond the counter now", c.TSC)
			}
		})
	}
}

// The reading is taken only once two reads agree: a clock that reads
// differently every time (a new second on each read) is never stable.
func TestCalibrateNeedsStableReading(t *testing.T) {
	m := &machine{boot: time.Unix(0, 0), hz: 1e9, readCost: time.Second}
	_, err := Calibrate(m, m, CalibrateOptions{MaxReads: 1000})
	if !errors.Is(err, ErrRTCStuck) || !strings.Contains(err.Error(), "no two readings agreed in 1000 reads") {
		t.Fatalf("err = %v, want ErrRTCStuck for unstable readings", err)
	}
}

func TestCalibrateRTCNeverTicks(t *testing.T) {
	m := &machine{boot: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), hz: 1e9, readCost: time.Microsecond, stuck: true}
	_, err := Calibrate(m, m, CalibrateOptions{MaxReads: 10_000})
	if !errors.Is(err, ErrRTCStuck) || !strings.Contains(err.Error(), "the RTC stayed at 00:00:00 for 10000 reads") {
		t.Fatalf("err = %v, want ErrRTCStuck naming the stuck time", err)
	}
	if m.rtcReads > 10_002+10_000 {
		t.Errorf("%d RTC reads, beyond the budget", m.rtcReads)
	}
}

// An RTC that jumps (set by someone while calibrating) is not a second.
func TestCalibrateRTCJumps(t *testing.T) {
	m := &machine{boot: time.Unix(100, 0), hz: 1e9, readCost: time.Microsecond}
	jumpy := &jumpingRTC{m: m, at: 3}
	_, err := Calibrate(jumpy, m, CalibrateOptions{})
	if err == nil || !strings.Contains(err.Error(), "the RTC jumped") {
		t.Fatalf("err = %v, want a jump error", err)
	}
}

// jumpingRTC is the machine's RTC set forward an hour after `at` reads.
type jumpingRTC struct {
	m  *machine
	at int
}

func (j *jumpingRTC) Now() (time.Time, error) {
	t, err := j.m.Now()
	if j.m.rtcReads > j.at {
		t = t.Add(time.Hour)
	}
	return t, err
}

// A TSC that stands still is no clock.
func TestCalibrateStillTSC(t *testing.T) {
	m := &machine{boot: time.Unix(100, 0), hz: 0, readCost: time.Microsecond}
	_, err := Calibrate(m, m, CalibrateOptions{})
	if err == nil || !strings.Contains(err.Error(), "did not advance across 1 RTC seconds") {
		t.Fatalf("err = %v, want a still-TSC error", err)
	}
}

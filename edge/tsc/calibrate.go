// Package tsc calibrates a CPU's time-stamp counter against a real-time
// clock with one-second resolution, using no other clock: the microvm-tcg
// board (edge/board/microvmtcg) sets TamaGo's system timer with it. It
// owns only that arithmetic and the reading loop; the two clocks are
// interfaces (tamago's soc/intel/rtc.RTC and amd64.CPU satisfy them).
package tsc

import (
	"errors"
	"fmt"
	"time"
)

// RTC is a real-time clock with one-second resolution (the CMOS RTC:
// tamago's soc/intel/rtc.RTC). Now may fail while the clock updates.
type RTC interface {
	Now() (time.Time, error)
}

// TSC is a free-running cycle counter (tamago's amd64.CPU.Counter).
type TSC interface {
	Counter() uint64
}

// Calibration is what Calibrate measured.
type Calibration struct {
	// Hz is the TSC's ticks per second.
	Hz uint64
	// Time is the RTC's time at the last second boundary, when the TSC
	// read TSC: the wall clock to start from.
	Time time.Time
	TSC  uint64
}

// CalibrateOptions bound Calibrate.
type CalibrateOptions struct {
	// Seconds is how many RTC seconds the TSC is counted across (1 if 0);
	// more is more precise and slower.
	Seconds int
	// MaxReads bounds the RTC reads spent waiting for one second boundary
	// (and for a stable reading); 0 means 50,000,000. An RTC that does not
	// tick within them is an error.
	MaxReads int
}

// ErrRTCStuck means the RTC never ticked (or never read twice the same).
var ErrRTCStuck = errors.New("the RTC does not tick")

// Calibrate measures the TSC's frequency against the RTC: it reads the
// RTC twice until two readings agree, waits for the next second boundary,
// then counts TSC ticks across opts.Seconds more boundaries. It uses no
// other clock, so it works before the system timer is set (TamaGo's
// microvm board under QEMU -accel tcg, which has no KVM pvclock).
func Calibrate(rtc RTC, tsc TSC, opts CalibrateOptions) (Calibration, error) {
	secs := opts.Seconds
	if secs <= 0 {
		secs = 1
	}
	budget := opts.MaxReads
	if budget <= 0 {
		budget = 50_000_000
	}
	cur, err := stableRead(rtc, budget)
	if err != nil {
		return Calibration{}, err
	}
	// The first boundary starts the count, the secs-th ends it.
	var start uint64
	for i := 0; i <= secs; i++ {
		next, ticks, err := nextSecond(rtc, tsc, cur, budget)
		if err != nil {
			return Calibration{}, fmt.Errorf("calibrating the TSC (boundary %d of %d): %w", i, secs, err)
		}
		if i == 0 {
			start = ticks
		}
		if i == secs {
			if ticks <= start {
				return Calibration{}, fmt.Errorf("calibrating the TSC: it did not advance across %d RTC seconds (%d to %d)", secs, start, ticks)
			}
			return Calibration{Hz: (ticks - start) / uint64(secs), Time: next, TSC: ticks}, nil
		}
		cur = next
	}
	panic("unreachable")
}

// stableRead reads the RTC until two consecutive readings agree.
func stableRead(rtc RTC, budget int) (time.Time, error) {
	var prev time.Time
	have := false
	for range budget {
		t, err := rtc.Now()
		if err != nil { // update in progress: read again
			have = false
			continue
		}
		if have && t.Equal(prev) {
			return t, nil
		}
		prev, have = t, true
	}
	return time.Time{}, fmt.Errorf("reading the RTC: no two readings agreed in %d reads: %w", budget, ErrRTCStuck)
}

// nextSecond waits until the RTC reads later than cur and returns its
// new reading and the TSC read right at the change.
func nextSecond(rtc RTC, tsc TSC, cur time.Time, budget int) (time.Time, uint64, error) {
	for range budget {
		t, err := rtc.Now()
		ticks := tsc.Counter()
		if err != nil || !t.After(cur) {
			continue
		}
		if t.Sub(cur) > time.Second {
			return time.Time{}, 0, fmt.Errorf("the RTC jumped from %s to %s", cur.Format(time.TimeOnly), t.Format(time.TimeOnly))
		}
		return t, ticks, nil
	}
	return time.Time{}, 0, fmt.Errorf("the RTC stayed at %s for %d reads: %w", cur.Format(time.TimeOnly), budget, ErrRTCStuck)
}

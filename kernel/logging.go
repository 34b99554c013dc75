package kernel

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/internal/semver"
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// EvLog is a line a box logged through wasi:logging; its attrs carry the
// box's level and context.
const EvLog = "box.log"

// Limits on what a box may log through wasi:logging: a longer message or
// context is cut (and marked), and past the rate the lines are dropped and
// counted in the next line that gets through.
const (
	maxLogMessage = 4096
	maxLogContext = 256
	logRate       = 200 // lines per second, sustained …
	logBurst      = 1000
)

// isLogging reports whether iface is wasi:logging/logging 0.1 (the
// current, 0.1.0-draft), which the kernel serves to every box that imports
// it: into the node's log and the event log (`wbox logs`).
func isLogging(iface string) bool {
	base, v, ok := semver.Split(iface)
	return ok && base == "wasi:logging/logging" && v.Major == 0 && v.Minor == 1
}

// wasi:logging's level enum, in order, as slog levels (trace and critical
// fall outside slog's four).
var logLevels = [...]struct {
	name  string
	level slog.Level
}{
	{"trace", slog.LevelDebug - 4},
	{"debug", slog.LevelDebug},
	{"info", slog.LevelInfo},
	{"warn", slog.LevelWarn},
	{"error", slog.LevelError},
	{"critical", slog.LevelError + 4},
}

// logLimiter is a token bucket of one instance.
type logLimiter struct {
	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped int
}

// allow takes a token, returning false (and counting a drop) when there is
// none, and the drops since the last line that got through.
func (l *logLimiter) allow(now time.Time) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = logBurst
	} else {
		l.tokens = min(logBurst, l.tokens+now.Sub(l.last).Seconds()*logRate)
	}
	l.last = now
	if l.tokens < 1 {
		l.dropped++
		return false, 0
	}
	l.tokens--
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}

// serveLogging implements wasi:logging/logging's log(level, context,
// message) for the box: a box.log event (level, context) in the event log
// and the node's slog log, tagged with the box. It never fails the box.
// Each instance has its own rate limit.
func (b *boxTask) serveLogging(hi *wasmhost.HostInstance) {
	lim := &logLimiter{}
	hi.Func("log", func(_ context.Context, args []any) ([]any, error) {
		lv, _ := args[0].(value.Variant)
		ctxText, _ := args[1].(string)
		msg, _ := args[2].(string)
		ok, dropped := lim.allow(time.Now())
		if !ok {
			return nil, nil
		}
		l := logLevels[2]
		if int(lv.Case) < len(logLevels) {
			l = logLevels[lv.Case]
		}
		attrs := []string{"level", l.name}
		if ctxText != "" {
			attrs = append(attrs, "context", cut(ctxText, maxLogContext))
		}
		if dropped > 0 {
			attrs = append(attrs, "dropped", fmt.Sprint(dropped))
		}
		b.k.events.emit(l.level, EvLog, b.name, cut(msg, maxLogMessage), attrs...)
		return nil, nil
	})
}

// cut shortens s to at most n bytes, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(cut)"
}

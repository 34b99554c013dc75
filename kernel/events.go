package kernel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Event kinds. Every lifecycle change is one Event, logged through slog,
// kept in memory and appended to DataDir/events.log.
const (
	EvBoxStarted    = "box.started"   // a box's instances are up (first start or Apply restart)
	EvBoxStopped    = "box.stopped"   // stopped by a deploy or Close
	EvBoxFailed     = "box.failed"    // a trap, deadline or quota failed the box
	EvBoxRestarted  = "box.restarted" // the supervisor brought a failed box back
	EvBoxRestartErr = "box.restart-failed"
	EvBoxRewired    = "box.rewired"       // its arrows were swapped in place
	EvBoxRebound    = "box.rebound"       // re-instantiated for new native arrows
	EvInstance      = "instance.replaced" // one instance rebuilt (caller cancelled mid-call, or a call through an arrow failed)
	EvCallFailed    = "call.failed"       // a call trapped, timed out or blew the memory quota
	EvDeployApplied = "deploy.applied"
	EvDeployFailed  = "deploy.failed"
	EvDriverStarted = "driver.started"
	EvDriverStopped = "driver.stopped"
	EvDriverFailed  = "driver.failed"
	EvStdout        = "box.stdout"
	EvStderr        = "box.stderr"
)

// Event is one entry of the kernel's event log.
type Event struct {
	// Seq numbers events from 1, without gaps, across node restarts when
	// DataDir is set.
	Seq   uint64     `json:"seq"`
	Time  time.Time  `json:"time"`
	Level slog.Level `json:"level"`
	Kind  string     `json:"kind"`
	// Task is the box or driver the event is about ("" for the node).
	Task  string            `json:"task,omitempty"`
	Msg   string            `json:"msg"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

// eventLog is a ring buffer of events, mirrored to slog and a JSON-lines
// file. Followers wait on a channel that is closed and replaced on every
// append, so following needs no goroutine per follower.
type eventLog struct {
	log *slog.Logger

	mu      sync.Mutex
	ring    []Event
	start   int // index of the oldest event in ring
	n       int // events in ring
	seq     uint64
	file    *os.File
	fileErr error // the first write error, reported once
	changed chan struct{}
}

func newEventLog(log *slog.Logger, dataDir string, size int) (*eventLog, error) {
	if size <= 0 {
		size = 4096
	}
	l := &eventLog{log: log, ring: make([]Event, size), changed: make(chan struct{})}
	if dataDir == "" {
		return l, nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	path := filepath.Join(dataDir, "events.log")
	if err := l.loadTail(path); err != nil {
		return nil, fmt.Errorf("event log %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	l.file = f
	return l, nil
}

// loadTail reads the last events of an existing log into the ring, so that
// Events and sequence numbers survive a node restart.
func (l *eventLog) loadTail(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	const maxTail = 8 << 20
	skipFirst := false
	if st.Size() > maxTail {
		if _, err := f.Seek(st.Size()-maxTail, io.SeekStart); err != nil {
			return err
		}
		skipFirst = true // it is probably a partial line
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if skipFirst {
			skipFirst = false
			continue
		}
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Seq == 0 {
			continue // a torn or foreign line: skip it
		}
		if e.Seq > l.seq {
			l.seq = e.Seq
		}
		l.push(e)
	}
	return nil
}

func (l *eventLog) push(e Event) {
	if l.n < len(l.ring) {
		l.ring[(l.start+l.n)%len(l.ring)] = e
		l.n++
		return
	}
	l.ring[l.start] = e
	l.start = (l.start + 1) % len(l.ring)
}

// emit records an event. attrs alternate keys and values.
func (l *eventLog) emit(level slog.Level, kind, task, msg string, attrs ...string) Event {
	e := Event{Time: time.Now(), Level: level, Kind: kind, Task: task, Msg: msg}
	if len(attrs) > 0 {
		e.Attrs = make(map[string]string, len(attrs)/2)
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Attrs[attrs[i]] = attrs[i+1]
		}
	}
	l.mu.Lock()
	l.seq++
	e.Seq = l.seq
	l.push(e)
	if l.file != nil {
		line, _ := json.Marshal(e)
		line = append(line, '\n')
		if _, err := l.file.Write(line); err != nil && l.fileErr == nil {
			l.fileErr = err
			l.log.Error("event log: write failed; events stay in memory only", "err", err)
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()

	if l.log.Enabled(context.Background(), level) {
		sa := make([]slog.Attr, 0, 2+len(attrs)/2)
		sa = append(sa, slog.String("event", kind))
		if task != "" {
			sa = append(sa, slog.String("task", task))
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			sa = append(sa, slog.String(attrs[i], attrs[i+1]))
		}
		l.log.LogAttrs(context.Background(), level, msg, sa...)
	}
	return e
}

// since returns the events after seq about task ("" for all), oldest first,
// and a channel closed when a new event arrives.
func (l *eventLog) since(seq uint64, task string) ([]Event, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for i := 0; i < l.n; i++ {
		e := l.ring[(l.start+i)%len(l.ring)]
		if e.Seq > seq && (task == "" || e.Task == task) {
			out = append(out, e)
		}
	}
	return out, l.changed
}

func (l *eventLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

// Events returns the events kept in memory with a sequence number above
// since, about task (a box or driver name; "" for all), oldest first.
func (k *Kernel) Events(since uint64, task string) []Event {
	evs, _ := k.events.since(since, task)
	return evs
}

// Follow calls fn with every event after since about task ("" for all), as
// they happen, until ctx is done (it then returns ctx.Err()) or fn returns
// an error (returned as is). It is how `wbox logs -f` streams: no event is
// missed unless the follower falls further behind than the in-memory
// buffer (Config.EventBuffer).
func (k *Kernel) Follow(ctx context.Context, since uint64, task string, fn func(Event) error) error {
	for {
		evs, changed := k.events.since(since, task)
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
			since = e.Seq
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// lineWriter turns a box's stdout or stderr into events, one per line.
type lineWriter struct {
	events *eventLog
	kind   string
	task   string
	mu     sync.Mutex
	buf    []byte
}

const maxLine = 4096

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLine {
				w.flushLocked()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.flushLocked()
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flushLocked() {
	w.events.emit(slog.LevelInfo, w.kind, w.task, string(w.buf))
	w.buf = w.buf[:0]
}

// Flush emits a pending partial line.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.flushLocked()
	}
}

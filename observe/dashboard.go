package observe

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wbox-dev/wbox/kernel"
)

//go:embed assets
var assets embed.FS

// DashboardConfig configures Dashboard.
type DashboardConfig struct {
	// Token is required of every request: as "Authorization: Bearer
	// TOKEN", or once as ?token=TOKEN, which sets a cookie for the rest.
	Token string
	// Kernel is the node's kernel, read for the graph and box details.
	Kernel *kernel.Kernel
	// Node names this node (the group its boxes are drawn in).
	Node string
	// API is the node's management API (/v1/status, /v1/logs, /v1/plan,
	// ...), served under /v1/ behind the token.
	API http.Handler
	// Metrics, if set, is served at /metrics behind the token.
	Metrics http.Handler
}

// Dashboard is the node's web dashboard: the live topology as boxes and
// arrows (SVG), box details (WIT, config, recent logs) and a plan view.
// Its assets are embedded; it loads nothing from elsewhere.
type Dashboard struct {
	cfg   DashboardConfig
	mux   *http.ServeMux
	rates *rateSampler
}

// NewDashboard returns the dashboard; it samples the kernel's counters
// every second (for calls/s) until ctx ends.
func NewDashboard(ctx context.Context, cfg DashboardConfig) *Dashboard {
	d := &Dashboard{cfg: cfg, mux: http.NewServeMux(), rates: &rateSampler{}}
	sub, _ := fs.Sub(assets, "assets")
	static := http.FileServerFS(sub)
	d.mux.Handle("GET /", static)
	d.mux.HandleFunc("GET /ui/graph", d.handleGraph)
	d.mux.HandleFunc("GET /ui/box/{name}", d.handleBox)
	if cfg.API != nil {
		d.mux.Handle("GET /v1/", cfg.API)
		d.mux.Handle("POST /v1/", cfg.API)
	}
	if cfg.Metrics != nil {
		d.mux.Handle("GET /metrics", cfg.Metrics)
	}
	go d.rates.run(ctx, cfg.Kernel)
	return d
}

const tokenCookie = "wbox_token"

// ServeHTTP checks the token, then serves the dashboard.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	} else if q := r.URL.Query().Get("token"); q != "" {
		tok = q
	} else if c, err := r.Cookie(tokenCookie); err == nil {
		tok = c.Value
	}
	if d.cfg.Token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(d.cfg.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wbox"`)
		http.Error(w, "wbox dashboard: a valid token is required (?token=TOKEN or Authorization: Bearer TOKEN)", http.StatusUnauthorized)
		return
	}
	if r.URL.Query().Get("token") != "" {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	d.mux.ServeHTTP(w, r)
}

// graph is the live topology of /ui/graph.
type graph struct {
	Node    string       `json:"node"`
	Taken   time.Time    `json:"taken"`
	Boxes   []graphBox   `json:"boxes"`
	Drivers []graphTask  `json:"drivers"`
	Arrows  []graphArrow `json:"arrows"`
}

type graphBox struct {
	graphTask
	Instances   int     `json:"instances"`
	MemoryBytes uint64  `json:"memory_bytes"`
	InFlight    int     `json:"in_flight"`
	P50Millis   float64 `json:"p50_ms"`
	P99Millis   float64 `json:"p99_ms"`
}

type graphTask struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"` // "box" or the driver's kind
	State     string  `json:"state"`
	Restarts  int     `json:"restarts"`
	LastError string  `json:"last_error,omitempty"`
	Calls     uint64  `json:"calls"`
	Errors    uint64  `json:"errors"`
	CallsPS   float64 `json:"calls_per_sec"`
	ErrorsPS  float64 `json:"errors_per_sec"`
}

type graphArrow struct {
	From     string  `json:"from"`
	Import   string  `json:"import"`
	Target   string  `json:"target"`
	Calls    uint64  `json:"calls"`
	Errors   uint64  `json:"errors"`
	CallsPS  float64 `json:"calls_per_sec"`
	ErrorsPS float64 `json:"errors_per_sec"`
	P50Milli float64 `json:"p50_ms"`
}

func (d *Dashboard) handleGraph(w http.ResponseWriter, r *http.Request) {
	s := d.cfg.Kernel.Snapshot()
	m := d.cfg.Kernel.Metrics()
	rate := d.rates.get()
	g := graph{Node: d.cfg.Node, Taken: s.Taken, Boxes: []graphBox{}, Drivers: []graphTask{}, Arrows: []graphArrow{}}
	for _, name := range s.Names() {
		b := s.Boxes[name]
		h := m.Boxes[name]
		g.Boxes = append(g.Boxes, graphBox{
			graphTask: graphTask{Name: name, Kind: "box", State: string(b.State), Restarts: b.Restarts, LastError: b.LastError,
				Calls: b.Counters.CallsIn, Errors: b.Counters.Errors, CallsPS: rate["task:"+name].calls, ErrorsPS: rate["task:"+name].errors},
			Instances: len(b.Instances), MemoryBytes: b.Counters.MemoryPages * 65536, InFlight: b.Counters.InFlight,
			P50Millis: millis(h.Quantile(0.5)), P99Millis: millis(h.Quantile(0.99)),
		})
	}
	var ds []string
	for n := range s.Drivers {
		ds = append(ds, n)
	}
	sort.Strings(ds)
	for _, name := range ds {
		dr := s.Drivers[name]
		g.Drivers = append(g.Drivers, graphTask{Name: name, Kind: dr.Spec.Kind, State: string(dr.State), Restarts: dr.Restarts,
			LastError: dr.LastError, Calls: dr.Counters.CallsIn, Errors: dr.Counters.Errors,
			CallsPS: rate["task:"+name].calls, ErrorsPS: rate["task:"+name].errors})
	}
	for _, a := range m.Arrows {
		rt := rate[arrowID(a)]
		g.Arrows = append(g.Arrows, graphArrow{From: a.From, Import: a.Import, Target: a.Target, Calls: a.Calls, Errors: a.Errors,
			CallsPS: rt.calls, ErrorsPS: rt.errors, P50Milli: millis(a.Latency.Quantile(0.5))})
	}
	writeJSON(w, g)
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func arrowID(a kernel.ArrowMetrics) string {
	return "arrow:" + a.From + "|" + a.Import + "|" + a.Target
}

// boxDetail is /ui/box/NAME: what a click on a box shows.
type boxDetail struct {
	Name      string            `json:"name"`
	Kind      string            `json:"kind"`
	State     string            `json:"state"`
	Digest    string            `json:"digest,omitempty"`
	WIT       string            `json:"wit,omitempty"`
	Config    map[string]string `json:"config,omitempty"`
	Settings  map[string]string `json:"settings,omitempty"`
	Instances []string          `json:"instances,omitempty"`
	Arrows    []string          `json:"arrows,omitempty"`
	LastError string            `json:"last_error,omitempty"`
	Logs      []logLine         `json:"logs"`
}

type logLine struct {
	Time  time.Time `json:"time"`
	Level string    `json:"level"`
	Kind  string    `json:"kind"`
	Msg   string    `json:"msg"`
}

func (d *Dashboard) handleBox(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s := d.cfg.Kernel.Snapshot()
	det := boxDetail{Name: name, Logs: []logLine{}}
	if b, ok := s.Boxes[name]; ok {
		det.Kind, det.State, det.Digest, det.Config, det.Instances, det.LastError = "box", string(b.State), b.Spec.Digest, b.Spec.Config, b.Instances, b.LastError
		if b.Spec.Component != nil {
			det.WIT = b.Spec.Component.World().WIT()
			if det.Digest == "" {
				det.Digest = b.Spec.Component.Digest()
			}
		}
		for _, a := range b.Spec.Arrows {
			det.Arrows = append(det.Arrows, a.Import+" → "+a.Target+"."+a.Export)
		}
	} else if dr, ok := s.Drivers[name]; ok {
		det.Kind, det.State, det.LastError = dr.Spec.Kind, string(dr.State), dr.LastError
		det.Settings = map[string]string{}
		for k, v := range dr.Spec.Settings {
			if b, err := json.Marshal(v); err == nil && len(b) < 512 {
				det.Settings[k] = string(b)
			}
		}
	} else {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": "no box or driver " + name + " runs on this node"})
		return
	}
	evs := d.cfg.Kernel.Events(0, name)
	if len(evs) > 50 {
		evs = evs[len(evs)-50:]
	}
	for _, e := range evs {
		det.Logs = append(det.Logs, logLine{Time: e.Time, Level: e.Level.String(), Kind: e.Kind, Msg: e.Msg})
	}
	writeJSON(w, det)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// rateSampler keeps the counters of the last few seconds to compute
// calls/s and errors/s of tasks and arrows.
type rateSampler struct {
	mu      sync.Mutex
	samples []rateSample
}

type rateSample struct {
	t      time.Time
	counts map[string][2]uint64 // id -> calls, errors
}

type rate struct{ calls, errors float64 }

func (rs *rateSampler) run(ctx context.Context, k *kernel.Kernel) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s, m := k.Snapshot(), k.Metrics()
		smp := rateSample{t: s.Taken, counts: map[string][2]uint64{}}
		for n, b := range s.Boxes {
			smp.counts["task:"+n] = [2]uint64{b.Counters.CallsIn, b.Counters.Errors}
		}
		for n, d := range s.Drivers {
			smp.counts["task:"+n] = [2]uint64{d.Counters.CallsIn, d.Counters.Errors}
		}
		for _, a := range m.Arrows {
			smp.counts[arrowID(a)] = [2]uint64{a.Calls, a.Errors}
		}
		rs.mu.Lock()
		rs.samples = append(rs.samples, smp)
		if len(rs.samples) > 4 {
			rs.samples = rs.samples[1:]
		}
		rs.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// get returns the rates between the oldest and newest samples (about the
// last three seconds).
func (rs *rateSampler) get() map[string]rate {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := map[string]rate{}
	if len(rs.samples) < 2 {
		return out
	}
	a, b := rs.samples[0], rs.samples[len(rs.samples)-1]
	dt := b.t.Sub(a.t).Seconds()
	if dt <= 0 {
		return out
	}
	for id, nb := range b.counts {
		na := a.counts[id] // zero if new: counted from nothing
		if nb[0] < na[0] || nb[1] < na[1] {
			continue // restarted by a deploy
		}
		out[id] = rate{float64(nb[0]-na[0]) / dt, float64(nb[1]-na[1]) / dt}
	}
	return out
}

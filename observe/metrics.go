package observe

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wbox-dev/wbox/kernel"
)

// NodeState is what a node reports of itself beyond its kernel: its
// cluster connection. Its function is called at every scrape.
type NodeState struct {
	// Cluster: the node is part of a cluster (the other fields are
	// meaningful only then).
	Cluster bool
	// NATSConnected: its NATS connection is up.
	NATSConnected bool
	// Members is the number of live nodes it sees.
	Members int
}

// Collector is a prometheus.Collector reading a kernel at every scrape.
type Collector struct {
	k     *kernel.Kernel
	state func() NodeState

	boxCalls, boxErrors, boxOverloaded, boxTimeouts, boxTraps *prometheus.Desc
	boxLatency, boxInFlight, boxRestarts, boxMemory, boxUp    *prometheus.Desc
	arrowCalls, arrowErrors, arrowLatency                     *prometheus.Desc
	drvCalls, drvErrors, drvRestarts, drvUp                   *prometheus.Desc
	natsUp, members                                           *prometheus.Desc
}

// NewCollector returns the collector of k's boxes, arrows and drivers;
// state, if not nil, reports the node's cluster connection.
func NewCollector(k *kernel.Kernel, state func() NodeState) *Collector {
	box := []string{"box"}
	arrow := []string{"from", "import", "target"}
	drv := []string{"driver", "kind"}
	return &Collector{
		k: k, state: state,
		boxCalls:      prometheus.NewDesc("wbox_box_calls_total", "Calls received by the box (HTTP requests included) since a deploy started it.", box, nil),
		boxErrors:     prometheus.NewDesc("wbox_box_errors_total", "Calls received by the box that failed, for any reason.", box, nil),
		boxOverloaded: prometheus.NewDesc("wbox_box_overloaded_total", "Calls refused because the box had max-in-flight calls queued or running.", box, nil),
		boxTimeouts:   prometheus.NewDesc("wbox_box_timeouts_total", "Calls interrupted by the box's call timeout.", box, nil),
		boxTraps:      prometheus.NewDesc("wbox_box_traps_total", "Calls that trapped.", box, nil),
		boxLatency:    prometheus.NewDesc("wbox_box_call_duration_seconds", "Duration of the calls the box received, queueing included.", box, nil),
		boxInFlight:   prometheus.NewDesc("wbox_box_in_flight", "Calls queued or running in the box now (its queue depth).", box, nil),
		boxRestarts:   prometheus.NewDesc("wbox_box_restarts_total", "Restarts by the box's supervisor since a deploy started it.", box, nil),
		boxMemory:     prometheus.NewDesc("wbox_box_memory_bytes", "Linear memory of the box's instances.", box, nil),
		boxUp:         prometheus.NewDesc("wbox_box_up", "1 if the box is running, else 0; state names its state.", []string{"box", "state"}, nil),
		arrowCalls:    prometheus.NewDesc("wbox_arrow_calls_total", "Calls through the arrow.", arrow, nil),
		arrowErrors:   prometheus.NewDesc("wbox_arrow_errors_total", "Calls through the arrow that failed.", arrow, nil),
		arrowLatency:  prometheus.NewDesc("wbox_arrow_call_duration_seconds", "Duration of calls through the arrow, as the caller saw it.", arrow, nil),
		drvCalls:      prometheus.NewDesc("wbox_driver_calls_total", "Calls into the driver by name (DriverEnv.Call, wbox invoke); calls through arrows are in wbox_arrow_calls_total.", drv, nil),
		drvErrors:     prometheus.NewDesc("wbox_driver_errors_total", "Calls received by the driver that failed.", drv, nil),
		drvRestarts:   prometheus.NewDesc("wbox_driver_restarts_total", "Restarts of the driver by its supervisor.", drv, nil),
		drvUp:         prometheus.NewDesc("wbox_driver_up", "1 if the driver is running, else 0.", drv, nil),
		natsUp:        prometheus.NewDesc("wbox_node_nats_connected", "1 if the node's NATS connection to its cluster is up (absent when alone).", nil, nil),
		members:       prometheus.NewDesc("wbox_node_cluster_members", "Live nodes of the cluster this node sees (absent when alone).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.boxCalls, c.boxErrors, c.boxOverloaded, c.boxTimeouts, c.boxTraps,
		c.boxLatency, c.boxInFlight, c.boxRestarts, c.boxMemory, c.boxUp, c.arrowCalls, c.arrowErrors,
		c.arrowLatency, c.drvCalls, c.drvErrors, c.drvRestarts, c.drvUp, c.natsUp, c.members} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.k.Snapshot()
	m := c.k.Metrics()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for name, b := range s.Boxes {
		counter(c.boxCalls, b.Counters.CallsIn, name)
		counter(c.boxErrors, b.Counters.Errors, name)
		counter(c.boxOverloaded, b.Counters.Overloaded, name)
		counter(c.boxTimeouts, b.Counters.Timeouts, name)
		counter(c.boxTraps, b.Counters.Traps, name)
		counter(c.boxRestarts, uint64(b.Restarts), name)
		gauge(c.boxInFlight, float64(b.Counters.InFlight), name)
		gauge(c.boxMemory, float64(b.Counters.MemoryPages*65536), name)
		gauge(c.boxUp, up(b.State), name, string(b.State))
		if h, ok := m.Boxes[name]; ok {
			ch <- histogram(c.boxLatency, h, name)
		}
	}
	for _, a := range m.Arrows {
		counter(c.arrowCalls, a.Calls, a.From, a.Import, a.Target)
		counter(c.arrowErrors, a.Errors, a.From, a.Import, a.Target)
		ch <- histogram(c.arrowLatency, a.Latency, a.From, a.Import, a.Target)
	}
	for name, d := range s.Drivers {
		counter(c.drvCalls, d.Counters.CallsIn, name, d.Spec.Kind)
		counter(c.drvErrors, d.Counters.Errors, name, d.Spec.Kind)
		counter(c.drvRestarts, uint64(d.Restarts), name, d.Spec.Kind)
		gauge(c.drvUp, up(d.State), name, d.Spec.Kind)
	}
	if c.state != nil {
		if st := c.state(); st.Cluster {
			v := 0.0
			if st.NATSConnected {
				v = 1
			}
			gauge(c.natsUp, v)
			gauge(c.members, float64(st.Members))
		}
	}
}

func up(s kernel.State) float64 {
	if s == kernel.StateRunning {
		return 1
	}
	return 0
}

// histogram turns a kernel histogram into a Prometheus one (cumulative
// buckets, seconds).
func histogram(d *prometheus.Desc, h kernel.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(kernel.LatencyBounds))
	var n uint64
	for i, b := range kernel.LatencyBounds {
		if i < len(h.Counts) {
			n += h.Counts[i]
		}
		buckets[b.Seconds()] = n
	}
	return prometheus.MustNewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets, labels...)
}

// Registry returns a registry with k's collector and the process and Go
// runtime collectors (the node's CPU and memory), every series labelled
// with node.
func Registry(k *kernel.Kernel, node string, state func() NodeState) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	r := prometheus.WrapRegistererWith(prometheus.Labels{"node": node}, reg)
	r.MustRegister(NewCollector(k, state))
	r.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.MustRegister(collectors.NewGoCollector())
	return reg
}

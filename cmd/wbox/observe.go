package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wbox-dev/wbox/observe"
)

// Observability of a node (`wbox node` and `wbox up` flags):
//
//	--metrics ADDR        Prometheus metrics at http://ADDR/metrics (no token:
//	                      bind it to 127.0.0.1 or a private network)
//	--dashboard ADDR      the web dashboard (and /metrics) at http://ADDR/,
//	                      behind the token in DIR/dashboard.token
//	--otlp URL            trace every arrow call, exporting to an OTLP/HTTP
//	                      collector (e.g. http://127.0.0.1:4318)
//	--trace-sample F      the fraction of new traces recorded (default 1)
//
// The listeners' actual addresses (ADDR may end in :0) are written to
// DIR/metrics.addr and DIR/dashboard.addr.

type observeOptions struct {
	metrics, dashboard, tokenFile, otlp string
	sample                              float64
}

func registerObserve(fs *flag.FlagSet) *observeOptions {
	o := &observeOptions{}
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (unauthenticated)")
	fs.StringVar(&o.dashboard, "dashboard", "", "serve the web dashboard at http://`ADDR`/ (token: DIR/dashboard.token)")
	fs.StringVar(&o.tokenFile, "dashboard-token-file", "", "the dashboard's token `FILE` (default DIR/dashboard.token, made if missing)")
	fs.StringVar(&o.otlp, "otlp", "", "trace arrow calls, exporting spans to the OTLP/HTTP collector at `URL`")
	fs.Float64Var(&o.sample, "trace-sample", 1, "the `fraction` of new traces recorded with --otlp")
	return o
}

type observeKey struct{}

// withObserve passes the options to runNodeIn.
func withObserve(ctx context.Context, o *observeOptions) context.Context {
	return context.WithValue(ctx, observeKey{}, o)
}

// startObserve starts what the options in ctx ask for on node n (c is its
// cluster, or nil); stop shuts it down.
func startObserve(ctx context.Context, n *node, c *cluster, data string, log *slog.Logger) (stop func(), err error) {
	o, _ := ctx.Value(observeKey{}).(*observeOptions)
	var stopMgmt func()
	if c != nil {
		// The management API over NATS (mgmt_nats.go).
		if stopMgmt, err = serveManagement(c.nn.Conn(), c.nn.Cluster(), c.nn.Name(), n.handler()); err != nil {
			return nil, err
		}
	}
	if o == nil || (o.metrics == "" && o.dashboard == "" && o.otlp == "") {
		if stopMgmt != nil {
			return stopMgmt, nil
		}
		return func() {}, nil
	}
	name, _ := os.Hostname()
	var state func() observe.NodeState
	if c != nil {
		name = c.nn.Name()
		state = func() observe.NodeState {
			return observe.NodeState{Cluster: true, NATSConnected: c.nn.Conn().IsConnected(), Members: len(c.nn.LiveMembers())}
		}
	}
	var stops []func()
	if stopMgmt != nil {
		stops = append(stops, stopMgmt)
	}
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	if o.otlp != "" {
		tr, shutdown, err := observe.StartTracing(ctx, observe.TracingConfig{Node: name, Endpoint: o.otlp, Sample: o.sample})
		if err != nil {
			return nil, err
		}
		n.k.SetTracer(tr)
		stops = append(stops, func() {
			n.k.SetTracer(nil)
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := shutdown(sctx); err != nil {
				log.Warn("flushing traces", "err", err)
			}
		})
		log.Info("tracing arrow calls", "otlp", o.otlp, "sample", o.sample)
	}
	reg := observe.Registry(n.k, name, state)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	serve := func(what, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--%s %s: %w", what, addr, err)
		}
		if err := os.WriteFile(filepath.Join(data, what+".addr"), []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			ln.Close()
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("serving "+what, "addr", addr, "err", err)
			}
		}()
		stops = append(stops, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
			srv.Close()
			os.Remove(filepath.Join(data, what+".addr"))
		})
		log.Info("serving "+what, "url", "http://"+ln.Addr().String()+"/")
		return nil
	}
	if o.metrics != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics)
		if err := serve("metrics", o.metrics, mux); err != nil {
			return nil, err
		}
	}
	if o.dashboard != "" {
		tokenFile := o.tokenFile
		if tokenFile == "" {
			tokenFile = filepath.Join(data, "dashboard.token")
		}
		token, err := dashboardToken(tokenFile)
		if err != nil {
			return nil, err
		}
		dctx, cancel := context.WithCancel(context.Background())
		stops = append(stops, cancel)
		d := observe.NewDashboard(dctx, observe.DashboardConfig{Token: token, Kernel: n.k, Node: name, API: n.handler(), Metrics: metrics})
		if err := serve("dashboard", o.dashboard, d); err != nil {
			return nil, err
		}
	}
	return stop, nil
}

// dashboardToken reads the dashboard's token from file, making a random
// one there (mode 0600) if the file does not exist.
func dashboardToken(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("dashboard token file %s is empty", file)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("dashboard token: %w", err)
	}
	raw := make([]byte, 24)
	rand.Read(raw)
	t := hex.EncodeToString(raw)
	if err := os.WriteFile(file, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("dashboard token: %w", err)
	}
	return t, nil
}

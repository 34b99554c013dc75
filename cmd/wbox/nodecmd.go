package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/kernel"
	"github.com/wbox-dev/wbox/linker"
	"github.com/wbox-dev/wbox/nodes"
)

// Commands that run or talk to a node: node, up, deploy, plan, status,
// logs, stop, invoke.

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", defaultDataDir(), "the node's data directory (default $WBOX_DATA or ~/.local/share/wbox)")
}

func logger(stderr io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("node", "node [--data DIR] [cluster flags]\n\nRuns a node in the foreground: a kernel with a management API on DIR/wbox.sock.\nDeploy to it with `wbox deploy FILE`; Ctrl-C or `wbox stop` stops it.\n\nWith --cluster-listen ADDR (the first node), --join nats://HOST:PORT (the others,\ngiven the first node's DIR/cluster.token with --token or --token-file) or --nats URL,\nthe node is part of a cluster: `wbox deploy` on any node deploys to all of them.", stderr)
	data := dataFlag(fs)
	debug := fs.Bool("debug", false, "log debug records too")
	var co clusterOptions
	co.register(fs)
	oo := registerObserve(fs) // observe.go
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitCode(2)
	}
	return runNodeIn(withObserve(ctx, oo), *data, "", &co, logger(stderr, *debug), stdout, stderr)
}

func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("up", "up [--data DIR] FILE\n\nRuns a node in the foreground and deploys the topology FILE to it: the quickest way\nto run an app. Other wbox commands reach it through --data as usual; Ctrl-C stops it.", stderr)
	data := dataFlag(fs)
	debug := fs.Bool("debug", false, "log debug records too")
	var co clusterOptions
	co.register(fs)
	oo := registerObserve(fs) // observe.go
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitCode(2)
	}
	return runNodeIn(withObserve(ctx, oo), *data, fs.Arg(0), &co, logger(stderr, *debug), stdout, stderr)
}

// runNodeWith runs a node until ctx is done or `wbox stop`; with a
// topology file, it deploys it first and gives up if that fails.
func runNodeWith(ctx context.Context, data, file string, log *slog.Logger, stdout, stderr io.Writer) error {
	return runNodeIn(ctx, data, file, nil, log, stdout, stderr)
}

// runNodeIn is runNodeWith for a node that may be part of a cluster (co
// enabled).
func runNodeIn(ctx context.Context, data, file string, co *clusterOptions, log *slog.Logger, stdout, stderr io.Writer) (err error) {
	var req topologyRequest
	if file != "" {
		if req, err = readTopology(file); err != nil {
			return err
		}
	}
	// The socket first: a second node on the same data directory must not
	// even open the first one's event log.
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	ln, err := listen(data)
	if err != nil {
		return err
	}
	defer os.Remove(socketPath(data))
	var c *cluster
	var extra map[string]kernel.DriverFactory
	if co != nil && co.enabled() {
		if c, err = startCluster(ctx, co, data, log); err != nil {
			ln.Close()
			return err
		}
		extra = map[string]kernel.DriverFactory{nodes.RemoteKind: c.remoteDriver,
			// backend: jetstream keeps a kv driver's data in the cluster.
			kv.Kind: kv.NewFactory(kv.Options{JetStream: c.nn.JetStream, Replicas: c.nn.Replicas})}
	}
	n, err := newNode(ctx, data, log, extra)
	if err != nil {
		ln.Close()
		if c != nil {
			c.nn.Close(context.Background())
		}
		return err
	}
	cctx, stopCluster := context.WithCancel(ctx)
	defer func() {
		stopCluster()
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c != nil {
			if cerr := c.close(cctx); cerr != nil {
				log.Error("leaving the cluster", "err", cerr)
			}
		}
		if cerr := n.close(cctx); cerr != nil {
			log.Error("closing the node", "err", cerr)
		}
		log.Info("node stopped")
	}()
	stopObserve, err := startObserve(ctx, n, c, data, log) // observe.go
	if err != nil {
		ln.Close()
		return err
	}
	defer stopObserve()
	log.Info("node listening", "socket", socketPath(data), "pid", os.Getpid())
	if c != nil {
		c.n = n
		n.cluster = c
		log.Info("node in cluster", "name", c.nn.Name(), "cluster", c.nn.Cluster(), "routes", c.nn.RouteURL(), "nats", c.nn.ClientURL())
		c.run(cctx)
		if file != "" {
			s, err := c.deploy(ctx, req)
			if err != nil {
				ln.Close()
				fmt.Fprintln(stderr, err)
				return exitCode(1)
			}
			fmt.Fprint(stdout, s)
		}
		return n.serve(ctx, ln)
	}
	if file != "" {
		p, err := n.deploy(ctx, req)
		if err != nil {
			ln.Close()
			fmt.Fprintln(stderr, err)
			return exitCode(1)
		}
		fmt.Fprint(stdout, linker.FormatPlan(p))
		fmt.Fprintf(stdout, "wbox is up: try `wbox status`, `wbox logs -f` or `wbox invoke BOX EXPORT [ARG...]`; Ctrl-C stops it\n")
	}
	return n.serve(ctx, ln)
}

// readTopology reads a topology file for the node.
func readTopology(file string) (topologyRequest, error) {
	f, err := os.Open(file)
	if err != nil {
		return topologyRequest{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, linker.MaxFileSize+1))
	if err != nil {
		return topologyRequest{}, err
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return topologyRequest{}, err
	}
	return topologyRequest{File: file, Dir: dir, YAML: string(b)}, nil
}

// client talks to a node's management API.
type client struct {
	data string
	hc   *http.Client
}

func newClient(data string) *client {
	if remoteTarget != nil { // wbox --cluster URL: mgmt_nats.go
		return remoteTarget.client()
	}
	sock := socketPath(data)
	return &client{data: data, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}}
}

// errNoNode explains a failed connection.
func (c *client) errNoNode(err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("no node runs with data directory %s: start one with `wbox up FILE` or `wbox node`", c.data)
	}
	return err
}

// do sends a request and decodes a JSON answer into out; an API error
// becomes a Go error with the node's text.
func (c *client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://wbox"+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.errNoNode(err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e apiError
		if json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error == "" {
			return nil, fmt.Errorf("node answered %s", resp.Status)
		}
		return nil, &nodeError{msg: e.Error}
	}
	return resp, nil
}

// nodeError is an error the node reported; positioned topology errors are
// printed as they are, one a line.
type nodeError struct{ msg string }

func (e *nodeError) Error() string { return e.msg }

// reportNodeError prints a node's error without the command prefix (it may
// be several positioned lines) and fails with status 1.
func reportNodeError(err error, stderr io.Writer) error {
	var ne *nodeError
	if errors.As(err, &ne) {
		fmt.Fprintln(stderr, ne.msg)
		return exitCode(1)
	}
	return err
}

func runDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return topologyCommand(ctx, "deploy", args, stdout, stderr)
}

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return topologyCommand(ctx, "plan", args, stdout, stderr)
}

func topologyCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	use := "deploy [--data DIR] FILE\n\nType-checks the topology FILE and applies it to the node as a diff: boxes whose\ncomponent, config and arrows did not change keep running. If anything fails, nothing changes."
	if name == "plan" {
		use = "plan [--data DIR] FILE\n\nType-checks the topology FILE and prints what `wbox deploy FILE` would change:\n+ start, ~ restart, > rewire, - stop, = keep."
	}
	fs := newFlags(name, use, stderr)
	data := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitCode(2)
	}
	req, err := readTopology(fs.Arg(0))
	if err != nil {
		return err
	}
	req.Who = who()
	var resp planResponse
	if err := newClient(*data).do(ctx, http.MethodPost, "/v1/"+name, req, &resp); err != nil {
		return reportNodeError(err, stderr)
	}
	fmt.Fprint(stdout, resp.Plan)
	if resp.Applied {
		fmt.Fprintln(stdout, "deployed")
	}
	return nil
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "status [--data DIR] [--json]\n\nPrints the node's boxes and drivers: state, instances, restarts, calls, calls/s, errors.", stderr)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitCode(2)
	}
	var st statusResponse
	if err := newClient(*data).do(ctx, http.MethodGet, "/v1/status", nil, &st); err != nil {
		return reportNodeError(err, stderr)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	up := time.Since(st.Node.Started).Round(time.Second)
	fmt.Fprintf(stdout, "node %s (pid %d, up %s)", st.Node.DataDir, st.Node.PID, up)
	if st.Node.Topology != "" {
		fmt.Fprintf(stdout, ", topology %s", st.Node.Topology)
	}
	fmt.Fprintln(stdout)
	if st.Cluster != nil {
		printCluster(stdout, st.Cluster)
	}
	if len(st.Boxes)+len(st.Drivers) == 0 {
		if st.Cluster != nil {
			fmt.Fprintln(stdout, "\nnothing runs on this node")
			return nil
		}
		fmt.Fprintln(stdout, "nothing runs: deploy a topology with `wbox deploy FILE`")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(st.Boxes) > 0 {
		fmt.Fprintln(tw, "\nBOX\tSTATE\tINSTANCES\tRESTARTS\tCALLS\tCALLS/S\tERRORS\tMEMORY\tUP")
		for _, b := range st.Boxes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.1f\t%d\t%s\t%s\n", b.Name, b.State, strings.Join(b.Instances, ","),
				b.Restarts, b.Calls, b.CallsPerSec, b.Errors, humanBytes(b.MemoryBytes), since(b.Started))
		}
	}
	if len(st.Drivers) > 0 {
		fmt.Fprintln(tw, "\nDRIVER\tKIND\tSTATE\tRESTARTS\tCALLS\tCALLS/S\tERRORS\tUP")
		for _, d := range st.Drivers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.1f\t%d\t%s\n", d.Name, d.Kind, d.State, d.Restarts, d.Calls, d.CallsPerSec, d.Errors, since(d.Started))
		}
	}
	tw.Flush()
	for _, b := range st.Boxes {
		if b.LastError != "" {
			fmt.Fprintf(stdout, "%s: last error: %s\n", b.Name, b.LastError)
		}
	}
	for _, d := range st.Drivers {
		if d.LastError != "" {
			fmt.Fprintf(stdout, "%s: last error: %s\n", d.Name, d.LastError)
		}
	}
	return nil
}

func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String()
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func runLogs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("logs", "logs [--data DIR] [-f] [--tail N] [--json] [BOX]\n\nPrints the node's event log (every lifecycle change, box output), of one box or driver\nor of all; -f keeps following it.", stderr)
	data := dataFlag(fs)
	follow := fs.Bool("f", false, "follow: print new events as they happen")
	tail := fs.Int("tail", 0, "print only the last N events kept (0: all)")
	asJSON := fs.Bool("json", false, "print events as JSON lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return exitCode(2)
	}
	q := url.Values{}
	if fs.NArg() == 1 {
		q.Set("task", fs.Arg(0))
	}
	if *follow {
		q.Set("follow", "1")
	}
	if *tail > 0 {
		q.Set("tail", fmt.Sprint(*tail))
	}
	resp, err := newClient(*data).send(ctx, http.MethodGet, "/v1/logs?"+q.Encode(), nil)
	if err != nil {
		return reportNodeError(err, stderr)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if *asJSON {
			fmt.Fprintln(stdout, sc.Text())
			continue
		}
		var e kernel.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("bad event from the node: %w", err)
		}
		fmt.Fprintln(stdout, formatEvent(e))
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// formatEvent renders an event on one line:
// "15:04:05.000 INFO  front box.started box "front" started digest=…".
func formatEvent(e kernel.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-5s %s", e.Time.Local().Format("2006-01-02 15:04:05.000"), e.Level, e.Kind)
	if e.Task != "" {
		fmt.Fprintf(&b, " [%s]", e.Task)
	}
	b.WriteString(" " + e.Msg)
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := e.Attrs[k]
		if strings.ContainsAny(v, " \t\"=") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

func runStop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stop", "stop [--data DIR] [BOX...]\n\nStops the named boxes, or, without any, the node.", stderr)
	data := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var resp stopResponse
	if err := newClient(*data).do(ctx, http.MethodPost, "/v1/stop", stopRequest{Boxes: fs.Args()}, &resp); err != nil {
		return reportNodeError(err, stderr)
	}
	if fs.NArg() == 0 {
		// Wait for the socket to go, so a following `wbox up` finds it free.
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(socketPath(*data)); errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Fprintln(stdout, "node stopped")
		return nil
	}
	fmt.Fprintf(stdout, "stopped %s\n", strings.Join(resp.Stopped, ", "))
	return nil
}

func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("invoke", "invoke [--data DIR] BOX EXPORT [ARG...]\n\nCalls a function a running box exports, through the node. EXPORT is iface#func\n(e.g. 'wbox:hello/app@0.1.0#hello') or just the function's name when that is unique.\nArguments and results are WAVE: 42, \"text\", [1, 2], {a: 1}, some(x), ok(x), err(e).", stderr)
	data := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return exitCode(2)
	}
	var resp invokeResponse
	req := invokeRequest{Box: fs.Arg(0), Export: fs.Arg(1), Args: fs.Args()[2:]}
	if req.Args == nil {
		req.Args = []string{}
	}
	if err := newClient(*data).do(ctx, http.MethodPost, "/v1/invoke", req, &resp); err != nil {
		return reportNodeError(err, stderr)
	}
	if resp.Result != "" {
		fmt.Fprintln(stdout, resp.Result)
	}
	return nil
}

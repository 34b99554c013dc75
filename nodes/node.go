package nodes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// routeUser is the user name routes between embedded servers authenticate
// with; the cluster token is the password.
const routeUser = "wbox"

// ErrRefused: the cluster refused this node (its token is not the
// cluster's).
var ErrRefused = errors.New("refused by the cluster")

// Node is a wbox node's place in the cluster: its NATS connection (to its
// embedded server or an external cluster), the boxes it serves to other
// nodes, its view of the members, and remote arrows to other nodes' boxes.
type Node struct {
	cfg Config
	log *slog.Logger
	srv *server.Server // nil with an external NATS
	tls *clusterTLS    // nil without TLS
	// leafAddr is where the embedded server accepts leaf nodes, or "".
	leafAddr string
	nlog     *natsLogger
	nc       *nats.Conn
	prefix   string // "wbox.<cluster>"

	sem     chan struct{} // bounds the remote calls served at once
	members *membership

	stateMu sync.Mutex // guards the JetStream handles below
	objs    jetstream.ObjectStore
	leaseKV jetstream.KeyValue
	stateKV jetstream.KeyValue // desired state (desired.go)

	mu       sync.Mutex
	services map[string]*service // by box
	closed   bool
}

// Start connects a node to its cluster: it starts the embedded NATS server
// (JetStream in DataDir/nats, clients and routes authenticated by the
// cluster token), joins the servers of Config.Join, or connects to the
// external cluster of Config.NATS; then it starts heartbeating.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ct, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}
	n := &Node{tls: ct,
		cfg: cfg, log: cfg.Logger.With("node", cfg.Name),
		prefix:   "wbox." + cfg.Cluster,
		sem:      make(chan struct{}, MaxConcurrentCalls),
		services: map[string]*service{},
	}
	defer func() {
		if err != nil {
			n.shutdownNATS()
		}
	}()
	if cfg.NATS != "" {
		err = n.connectExternal(ctx)
	} else {
		err = n.startEmbedded(ctx)
	}
	if err != nil {
		return nil, err
	}
	n.members = newMembership(n)
	if err := n.members.start(); err != nil {
		return nil, err
	}
	if n.srv != nil && (len(cfg.Join) > 0 || len(cfg.Leaf) > 0) {
		if err := n.waitJoined(ctx); err != nil {
			n.members.leave()
			return nil, err
		}
	}
	return n, nil
}

func (n *Node) connectExternal(ctx context.Context) error {
	tok, _, err := loadToken(n.cfg, false)
	if err != nil && !errors.Is(err, ErrNoToken) {
		return err
	}
	opts := n.connOptions()
	if tok != "" {
		opts = append(opts, nats.Token(tok))
	}
	if n.cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(n.cfg.CredsFile))
	}
	if n.tls != nil {
		opts = append(opts, nats.Secure(n.tls.config()))
	}
	opts = append(opts, nats.MaxReconnects(-1), nats.Timeout(timeoutFrom(ctx, 5*time.Second)))
	nc, err := nats.Connect(n.cfg.NATS, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) {
			return fmt.Errorf("%w: NATS at %s: %v (check the token or credentials)", ErrRefused, redactURL(n.cfg.NATS), err)
		}
		return fmt.Errorf("connecting to NATS at %s: %w", redactURL(n.cfg.NATS), err)
	}
	n.nc = nc
	n.log.Info("connected to an external NATS", "url", redactURL(nc.ConnectedUrl()))
	return nil
}

func (n *Node) startEmbedded(ctx context.Context) error {
	c := n.cfg
	tok, created, err := loadToken(c, len(c.Join) == 0 && len(c.Leaf) == 0)
	if err != nil {
		return err
	}
	if created {
		n.log.Info("created a new cluster token: other nodes need it to join", "file", filepath.Join(c.DataDir, TokenFileName))
	}
	host, port, err := hostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	opts := &server.Options{
		ServerName:             c.Name,
		Host:                   host,
		Port:                   port,
		NoSigs:                 true,
		Authorization:          tok,
		JetStream:              !c.NoJetStream,
		StoreDir:               filepath.Join(c.DataDir, "nats"),
		DisableJetStreamBanner: true,
		MaxPayload:             8 << 20,
	}
	if opts.JetStream {
		// Edge nodes (--leaf) reach this JetStream through the domain.
		opts.JetStreamDomain = c.Cluster
	}
	if n.tls != nil {
		// Clients show a certificate too; the node's own in-process
		// connection skips TLS.
		opts.TLSConfig, opts.TLSVerify = n.tls.config(), true
	}
	if err := n.leafOptions(opts, tok, n.tls); err != nil {
		return err
	}
	if c.ClusterListen != "" {
		chost, cport, err := hostPort(c.ClusterListen)
		if err != nil {
			return fmt.Errorf("--cluster-listen: %w", err)
		}
		if cport < 0 && len(c.Join) == 0 {
			// A seed routes to itself (see below), so its port must be
			// known before the server starts.
			if cport, err = freePort(chost); err != nil {
				return fmt.Errorf("--cluster-listen: %w", err)
			}
		}
		opts.Cluster = server.ClusterOpts{
			Name: c.Cluster, Host: chost, Port: cport,
			Username: routeUser, Password: tok,
			Advertise: c.ClusterAdvertise,
			// A server that vanished without closing its routes (power
			// loss, partition) is noticed within about 4s, not the
			// default 2 minutes: its boxes' interest goes with it.
			PingInterval: time.Second,
			MaxPingsOut:  3,
		}
		if n.tls != nil {
			opts.Cluster.TLSConfig = n.tls.config()
		}
		if len(c.Join) == 0 {
			// JetStream in a cluster refuses to start without a configured
			// route. A seed has none yet: give it a route to itself, which
			// the server recognizes and drops.
			self := chost
			if ip := net.ParseIP(self); ip != nil && ip.IsUnspecified() {
				self = "127.0.0.1"
			}
			opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats", Host: net.JoinHostPort(self, strconv.Itoa(cport)),
				User: url.UserPassword(routeUser, tok)})
		}
	}
	for _, j := range c.Join {
		u, err := routeURL(j)
		if err != nil {
			return err
		}
		u.User = url.UserPassword(routeUser, tok)
		opts.Routes = append(opts.Routes, u)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("embedded NATS: %w", err)
	}
	n.srv = srv
	n.nlog = &natsLogger{log: n.log.With("component", "nats")}
	srv.SetLoggerV2(n.nlog, c.NATSDebug, false, false)
	srv.Start()
	if !srv.ReadyForConnections(timeoutFrom(ctx, 15*time.Second)) {
		if ferr := n.nlog.fatal(); ferr != nil {
			return fmt.Errorf("embedded NATS: %w", ferr)
		}
		return errors.New("embedded NATS: not ready in time")
	}
	if ferr := n.nlog.fatal(); ferr != nil {
		return fmt.Errorf("embedded NATS: %w", ferr)
	}
	// A loaded machine may take more than nats.go's default 2s.
	opts2 := append(n.connOptions(), nats.InProcessServer(srv), nats.Token(tok), nats.Timeout(timeoutFrom(ctx, 10*time.Second)))
	// In process, TLS is not needed (the server does not ask for it): the
	// nats:// scheme keeps the client from starting it.
	nc, err := nats.Connect(strings.Replace(srv.ClientURL(), "tls://", "nats://", 1), opts2...)
	if err != nil {
		return fmt.Errorf("connecting to the embedded NATS: %w", err)
	}
	n.nc = nc
	n.log.Info("embedded NATS ready", "client", srv.ClientURL(), "routes", n.RouteURL(), "jetstream", srv.JetStreamEnabled())
	return nil
}

// waitJoined waits until the node hears from another member of the
// cluster it joins: that proves its route works both ways. A refused route
// (the wrong token) fails the start; silence until JoinTimeout only warns
// (the server keeps trying: the other nodes may all be down).
func (n *Node) waitJoined(ctx context.Context) error {
	changed := n.MembersChanged()
	deadline := time.NewTimer(n.cfg.JoinTimeout)
	defer deadline.Stop()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if why := n.nlog.refused(); why != "" {
			return fmt.Errorf("%w: the servers of %s refused this node: %s", ErrRefused, strings.Join(slices.Concat(n.cfg.Join, n.cfg.Leaf), ", "), why)
		}
		if len(n.Members()) > 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			n.log.Warn("no other member of the cluster heard yet; still trying", "join", n.cfg.Join)
			return nil
		case <-changed:
		case <-t.C:
		}
	}
}

func (n *Node) connOptions() []nats.Option {
	return []nats.Option{
		nats.Name("wbox node " + n.cfg.Name),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			n.log.Warn("NATS", "err", err, "subject", subj)
		}),
	}
}

// routeURL parses a --join address: nats://host:port or host:port.
func routeURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--join %q: want nats://host:port", s)
	}
	if u.Scheme != "nats" && u.Scheme != "nats-route" {
		return nil, fmt.Errorf("--join %q: want nats://host:port", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "6222")
	}
	return u, nil
}

// freePort asks the kernel for a free TCP port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func timeoutFrom(ctx context.Context, d time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			return max(left, time.Millisecond)
		}
	}
	return d
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("***")
	return u.String()
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Cluster returns the cluster's name.
func (n *Node) Cluster() string { return n.cfg.Cluster }

// Conn returns the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// ClientURL returns the client URL of the embedded server (what --nats of
// a node without a server of its own, or the CLI, connect to), or "".
func (n *Node) ClientURL() string {
	if n.srv == nil {
		return ""
	}
	return n.srv.ClientURL()
}

// RouteURL returns the route URL other nodes --join, or "" when the node
// accepts no routes.
func (n *Node) RouteURL() string {
	if n.srv == nil {
		return ""
	}
	a := n.srv.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats://" + net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}

// Peers returns the names of the servers the embedded server has routes
// to, sorted (nil with an external NATS).
func (n *Node) Peers() []string {
	if n.srv == nil {
		return nil
	}
	rz, err := n.srv.Routez(nil)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var ps []string
	for _, r := range rz.Routes {
		if r.RemoteName != "" && !seen[r.RemoteName] {
			seen[r.RemoteName] = true
			ps = append(ps, r.RemoteName)
		}
	}
	sort.Strings(ps)
	return ps
}

// JetStream returns the cluster's JetStream once it answers: on a
// clustered server, once a meta leader is elected (that needs a majority of
// the servers that ever joined; a seed alone waits for a second one).
func (n *Node) JetStream(ctx context.Context) (jetstream.JetStream, error) {
	js, err := n.newJetStream()
	if err != nil {
		return nil, err
	}
	for {
		actx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := js.AccountInfo(actx)
		cancel()
		if err == nil {
			return js, nil
		}
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("JetStream is not available: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close leaves the cluster: it says goodbye to the members, stops serving,
// closes the connection and shuts the embedded server down.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	svcs := n.services
	n.services = map[string]*service{}
	n.mu.Unlock()
	for _, s := range svcs {
		s.stop()
	}
	for _, s := range svcs {
		s.wait(ctx)
	}
	if n.members != nil {
		n.members.leave()
	}
	if n.nc != nil && n.nc.IsConnected() {
		n.nc.FlushTimeout(timeoutFrom(ctx, 2*time.Second))
	}
	n.shutdownNATS()
	return nil
}

func (n *Node) shutdownNATS() {
	if n.nc != nil {
		n.nc.Close()
	}
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
}

// natsLogger sends the embedded server's log to slog, and notices a
// refused route and a fatal error.
type natsLogger struct {
	log      *slog.Logger
	mu       sync.Mutex
	fatalErr error
	refusal  string // why a route or hub refused this server, or ""
}

func (l *natsLogger) fatal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalErr
}

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Info(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	if l.fatalErr == nil {
		l.fatalErr = errors.New(msg)
	}
	l.mu.Unlock()
	l.log.Error(msg)
}
func (l *natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if why := refusalIn(msg); why != "" {
		l.mu.Lock()
		if l.refusal == "" {
			l.refusal = why
		}
		l.mu.Unlock()
	}
	l.log.Error(msg)
}
func (l *natsLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(string, ...any)          {}

package nodes

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Config configures a Node.
type Config struct {
	// Name names the node in the cluster (and its embedded NATS server);
	// it must be unique in the cluster. Empty means the host name.
	Name string
	// DataDir holds the JetStream store (DataDir/nats) and the cluster
	// token (DataDir/cluster.token). Required unless NATS is set.
	DataDir string
	// Cluster names the wbox cluster: it is the NATS cluster name of the
	// embedded servers and the first tokens of every wbox subject, so
	// several wbox clusters can share one external NATS. Empty means "wbox".
	Cluster string

	// Listen is the client address of the embedded server (host:port);
	// empty means DefaultListen, port 0 a free port. Other nodes of an
	// external setup (--nats) and the CLI connect there; the node itself
	// talks to its server in process.
	Listen string
	// ClusterListen is the address where the embedded server accepts routes
	// from the other servers of the cluster (host:port, port 0 a free
	// port). Empty means no route listener, unless Join is set: then the
	// host of Listen with a free port. A node others --join must set it.
	ClusterListen string
	// ClusterAdvertise is the route address gossiped to the other servers
	// when ClusterListen is not reachable as is (0.0.0.0, NAT).
	ClusterAdvertise string
	// Join lists route URLs (nats://host:port) of servers of the cluster to
	// join. Their token must be Token.
	Join []string
	// JoinTimeout bounds how long Start waits for a first route when Join
	// is set: a refused route (wrong token) fails Start, an unreachable one
	// only logs (the server keeps trying). Zero means 10s.
	JoinTimeout time.Duration

	// LeafListen is the address where the embedded server accepts leaf
	// node connections from edge nodes (host:port, port 0 a free port;
	// nats-server's usual port is 7422): a hub. Leaf nodes authenticate
	// like routes (the token; TLS when configured).
	LeafListen string
	// Leaf lists leaf URLs (nats://host:port) of hubs: the node is an edge
	// node that connects out to one of them (behind NAT, no port open)
	// instead of joining with routes. Its embedded server runs no
	// JetStream of its own: cluster state lives on the hub's side (its
	// JetStream domain, the cluster's name). Not with Join.
	Leaf []string

	// TLSCert and TLSKey are the node's certificate and key (PEM files),
	// TLSCA the cluster CA's certificate (see NewCA, NewNodeCert, `wbox
	// certs`). When set, every listener of the embedded server (clients,
	// routes, leaf nodes) requires TLS and a client certificate signed by
	// the CA, and the node verifies the servers it connects to (routes,
	// hubs, --nats) against the CA and TLSServerName. The token is still
	// required. All three or none.
	TLSCert, TLSKey, TLSCA string

	// NATS, when set, is the URL of an external NATS cluster: no embedded
	// server starts, and Listen, ClusterListen and Join are ignored.
	NATS string
	// CredsFile is a NATS credentials file for an external cluster.
	CredsFile string

	// Token is the cluster token: clients of the embedded server and routes
	// between servers must present it. Empty means TokenFile, else
	// DataDir/cluster.token; a node that joins nobody creates that file
	// with a fresh random token when it does not exist. A node given a
	// token stores it in DataDir/cluster.token for its restarts.
	Token string
	// TokenFile is a file holding the cluster token (first line).
	TokenFile string

	// Labels and Capacity describe the node to the others (membership,
	// placement).
	Labels   map[string]string
	Capacity Capacity
	// Heartbeat is the interval between membership heartbeats; a member
	// missing MissedBeats of them is gone. Zero means 1s.
	Heartbeat   time.Duration
	MissedBeats int

	// CallTimeout bounds a remote call whose context has no deadline.
	// Zero means 30s.
	CallTimeout time.Duration

	// Replicas is how many copies JetStream keeps of cluster state
	// (component binaries, leases); 0 means three once the cluster has
	// three members, else one per member.
	Replicas int
	// LeaseTTL is how long a lease outlives its holder's last renewal;
	// 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration

	// NoJetStream disables JetStream in the embedded server (tests).
	NoJetStream bool
	// NATSDebug logs the embedded server's debug records.
	NATSDebug bool

	Logger *slog.Logger
}

// DefaultListen is the client address of the embedded server when
// Config.Listen is empty: loopback only.
const DefaultListen = "127.0.0.1:4222"

// Capacity is what a node offers to boxes.
type Capacity struct {
	// CPUs is the number of CPUs the node lends to boxes.
	CPUs int `json:"cpus,omitempty"`
	// MemoryBytes is the memory the node lends to boxes.
	MemoryBytes uint64 `json:"memory,omitempty"`
	// Boxes caps the number of boxes placed on the node (0: no cap).
	Boxes int `json:"boxes,omitempty"`
}

// RegisterFlags defines the node's cluster flags on fs, to be read into c
// when fs is parsed: --name, --cluster, --listen, --cluster-listen,
// --cluster-advertise, --join (repeatable or comma-separated),
// --leaf-listen, --leaf (repeatable), --tls-cert, --tls-key, --tls-ca,
// --nats, --creds, --token, --token-file and --label (repeatable
// key=value). The token also comes from $WBOX_CLUSTER_TOKEN.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Name, "name", c.Name, "the node's name in the cluster (default: the host name)")
	fs.StringVar(&c.Cluster, "cluster", c.Cluster, "the cluster's name (default wbox)")
	fs.StringVar(&c.Listen, "listen", c.Listen, "the embedded NATS server's client address (default "+DefaultListen+")")
	fs.StringVar(&c.ClusterListen, "cluster-listen", c.ClusterListen, "accept routes from other nodes on this address (host:port), so they can --join this node")
	fs.StringVar(&c.ClusterAdvertise, "cluster-advertise", c.ClusterAdvertise, "the route address other nodes should use to reach this one")
	fs.Func("join", "join the cluster of a node: its route URL nats://host:port (repeatable)", func(s string) error {
		for _, u := range strings.Split(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.Join = append(c.Join, u)
			}
		}
		return nil
	})
	fs.StringVar(&c.LeafListen, "leaf-listen", c.LeafListen, "accept leaf node connections from edge nodes on this address (host:port, usually :7422)")
	fs.Func("leaf", "run as an edge node connected out to a hub's leaf URL nats://host:7422 (repeatable: several hubs)", func(s string) error {
		for _, u := range strings.Split(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.Leaf = append(c.Leaf, u)
			}
		}
		return nil
	})
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "the node's TLS certificate (PEM; see wbox certs): TLS with client certificates on every connection")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "the node's TLS private key (PEM)")
	fs.StringVar(&c.TLSCA, "tls-ca", c.TLSCA, "the cluster CA's certificate (PEM): peers must show a certificate it signed")
	fs.StringVar(&c.NATS, "nats", c.NATS, "use the external NATS cluster at this URL instead of an embedded server")
	fs.StringVar(&c.CredsFile, "creds", c.CredsFile, "a NATS credentials file for --nats")
	if c.Token == "" {
		c.Token = os.Getenv("WBOX_CLUSTER_TOKEN")
	}
	fs.StringVar(&c.Token, "token", c.Token, "the cluster token (default $WBOX_CLUSTER_TOKEN, else --token-file, else DATA/cluster.token)")
	fs.StringVar(&c.TokenFile, "token-file", c.TokenFile, "a file holding the cluster token")
	fs.Func("label", "a node label key=value for placement (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("label %q: want key=value", s)
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[k] = v
		return nil
	})
}

// withDefaults fills in the defaults and checks the configuration.
func (c Config) withDefaults() (Config, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Name == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return c, errors.New("the node needs a name (--name): the host name is unknown")
		}
		c.Name = h
	}
	if err := checkName("node name", c.Name); err != nil {
		return c, err
	}
	if c.Cluster == "" {
		c.Cluster = "wbox"
	}
	if err := checkName("cluster name", c.Cluster); err != nil {
		return c, err
	}
	if c.NATS == "" && c.DataDir == "" {
		return c, errors.New("an embedded NATS server needs a data directory")
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = 10 * time.Second
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = time.Second
	}
	if c.MissedBeats <= 0 {
		c.MissedBeats = 3
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.Capacity.CPUs <= 0 {
		c.Capacity.CPUs = runtime.NumCPU()
	}
	if len(c.Leaf) > 0 && len(c.Join) > 0 {
		return c, errors.New("--leaf and --join exclude each other: an edge node reaches the cluster through its hub only")
	}
	if len(c.Leaf) > 0 {
		c.NoJetStream = true
	}
	if c.ClusterListen == "" && len(c.Join) > 0 {
		host, _, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return c, fmt.Errorf("listen address %q: %w", c.Listen, err)
		}
		c.ClusterListen = net.JoinHostPort(host, "0")
	}
	return c, nil
}

// checkName accepts names that are one NATS subject token and readable in
// a shell: letters, digits, '-' and '_'.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return fmt.Errorf("%s %q: only letters, digits, '-' and '_' are allowed", what, s)
		}
	}
	return nil
}

// hostPort splits a listen address; port 0 becomes -1, nats-server's
// "any free port".
func hostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port", addr)
	}
	if port == 0 {
		port = -1
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

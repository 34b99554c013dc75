package nodes

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultLeafPort is the port of a leaf URL (--leaf) that names none, and
// nats-server's usual leaf node port.
const DefaultLeafPort = 7422

// leafOptions configures the embedded server's leaf node side: a hub
// accepts leaf connections on Config.LeafListen (authenticated like routes:
// user "wbox", the cluster token as password, and TLS when configured); an
// edge node connects out to the hubs of Config.Leaf. ct may be nil.
func (n *Node) leafOptions(opts *server.Options, tok string, ct *clusterTLS) error {
	c := n.cfg
	if c.LeafListen != "" {
		host, port, err := hostPort(c.LeafListen)
		if err != nil {
			return fmt.Errorf("--leaf-listen: %w", err)
		}
		if port < 0 {
			// The port is known before the server starts, so LeafURL can
			// say it (nats-server does not tell).
			if port, err = freePort(host); err != nil {
				return fmt.Errorf("--leaf-listen: %w", err)
			}
		}
		opts.LeafNode.Host, opts.LeafNode.Port = host, port
		opts.LeafNode.Username, opts.LeafNode.Password = routeUser, tok
		if ct != nil {
			opts.LeafNode.TLSConfig = ct.config()
		}
		n.leafAddr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if len(c.Leaf) > 0 {
		remote := &server.RemoteLeafOpts{}
		for _, s := range c.Leaf {
			u, err := leafURL(s)
			if err != nil {
				return err
			}
			u.User = url.UserPassword(routeUser, tok)
			remote.URLs = append(remote.URLs, u)
		}
		if ct != nil {
			remote.TLSConfig = ct.config()
		}
		opts.LeafNode.Remotes = append(opts.LeafNode.Remotes, remote)
	}
	return nil
}

// leafURL parses a --leaf address: nats://host:port, tls://host:port or
// host:port (port DefaultLeafPort when missing).
func leafURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "nats://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--leaf %q: want nats://host:port", s)
	}
	switch u.Scheme {
	case "nats", "nats-leaf", "tls":
	default:
		return nil, fmt.Errorf("--leaf %q: want nats://host:port", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(DefaultLeafPort))
	}
	return u, nil
}

// LeafURL returns the URL edge nodes give --leaf to connect to this node,
// or "" when it accepts no leaf nodes.
func (n *Node) LeafURL() string {
	if n.leafAddr == "" {
		return ""
	}
	host, port, _ := net.SplitHostPort(n.leafAddr)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, port)
}

// Leaves returns the names of the servers connected to this one as leaf
// nodes, or the hub this edge node is connected to, sorted.
func (n *Node) Leaves() []string {
	if n.srv == nil {
		return nil
	}
	lz, err := n.srv.Leafz(nil)
	if err != nil {
		return nil
	}
	var names []string
	for _, l := range lz.Leafs {
		names = append(names, l.Name)
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// newJetStream is the JetStream API of the node's cluster state: an edge
// node's server has no JetStream, so it uses its hub's, through the hub's
// domain (the cluster's name); every other node the plain API.
func (n *Node) newJetStream() (jetstream.JetStream, error) {
	if len(n.cfg.Leaf) > 0 {
		return jetstream.NewWithDomain(n.nc, n.cfg.Cluster)
	}
	return jetstream.New(n.nc)
}

// refused says why a route or a hub refused this server, from the server's
// log records, or "".
func (l *natsLogger) refused() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refusal
}

// refusalIn recognizes, in an error record of nats-server, a route or leaf
// connection refused for its credentials or its certificate.
func refusalIn(msg string) string {
	switch {
	case (strings.Contains(msg, "Route Error") || strings.Contains(msg, "Leafnode Error")) &&
		strings.Contains(msg, "Authorization Violation"):
		return "it does not have the cluster's token"
	case strings.Contains(msg, "TLS route handshake error") || strings.Contains(msg, "TLS leafnode handshake error"):
		_, detail, _ := strings.Cut(msg, "handshake error: ")
		return "TLS: " + detail + " (is its certificate signed by the cluster CA? see --tls-ca)"
	}
	return ""
}

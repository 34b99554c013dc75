package nodes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// testCA is a cluster CA made for a test, in a directory of its own.
type testCA struct {
	dir       string
	cert, key []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	cert, key, err := NewCA("wbox")
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{dir: t.TempDir(), cert: cert, key: key}
	if err := os.WriteFile(filepath.Join(ca.dir, "ca.crt"), cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return ca
}

// useTLS gives c a certificate of the CA for the node, with 127.0.0.1.
func (ca *testCA) useTLS(t *testing.T, c *Config) {
	t.Helper()
	cert, key, err := NewNodeCert(ca.cert, ca.key, c.Name, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c.TLSCert = filepath.Join(ca.dir, c.Name+".crt")
	c.TLSKey = filepath.Join(ca.dir, c.Name+".key")
	c.TLSCA = filepath.Join(ca.dir, "ca.crt")
	if err := os.WriteFile(c.TLSCert, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.TLSKey, key, 0o600); err != nil {
		t.Fatal(err)
	}
}

// clientTLS is what a client of the cluster (the CLI, a tool) shows.
func (ca *testCA) clientTLS(t *testing.T, name string) *tls.Config {
	t.Helper()
	c := Config{Name: name}
	ca.useTLS(t, &c)
	ct, err := loadTLS(c)
	if err != nil {
		t.Fatal(err)
	}
	return ct.config()
}

func TestNodeCert(t *testing.T) {
	ca := newTestCA(t)
	certPEM, _, err := NewNodeCert(ca.cert, ca.key, "n1", []string{"192.0.2.7", "n1.home.example"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.cert)
	for _, name := range []string{TLSServerName, "n1", "n1.home.example", "192.0.2.7"} {
		for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("as %s for usage %v: %v", name, usage, err)
			}
		}
	}
	if cert.IsCA {
		t.Error("a node certificate can sign certificates")
	}
	// Another CA's key does not sign for this CA.
	_, otherKey, _ := NewCA("wbox")
	if _, _, err := NewNodeCert(ca.cert, otherKey, "n2", nil); err == nil {
		t.Error("signed with a key that is not the CA's")
	}
	if _, _, err := NewNodeCert(certPEM, ca.key, "n2", nil); err == nil {
		t.Error("a node certificate served as a CA")
	}
	if _, _, err := NewNodeCert(ca.cert, ca.key, "bad name", nil); err == nil {
		t.Error("a node name with a space was accepted")
	}
}

func TestTLSConfigChecked(t *testing.T) {
	ca := newTestCA(t)
	c := testConfig(t, "half")
	ca.useTLS(t, &c)
	c.TLSCA = ""
	if _, err := Start(context.Background(), c); err == nil || !strings.Contains(err.Error(), "--tls-ca") {
		t.Errorf("cert without CA: %v", err)
	}
	// A certificate of another CA is refused at start, naming the files.
	other := newTestCA(t)
	c = testConfig(t, "stranger")
	other.useTLS(t, &c)
	c.TLSCA = filepath.Join(ca.dir, "ca.crt")
	if _, err := Start(context.Background(), c); err == nil || !strings.Contains(err.Error(), "stranger.crt") {
		t.Errorf("a certificate of another CA: %v", err)
	}
}

// Two nodes with certificates of the cluster CA: routes and client
// connections are TLS with client certificates, and the token is still
// required; a node with a certificate of another CA (and the right token)
// is refused.
func TestTLSCluster(t *testing.T) {
	ca := newTestCA(t)
	ns := startCluster(t, 2, func(_ int, c *Config) { ca.useTLS(t, c) })
	tok, _ := readToken(filepath.Join(ns[0].cfg.DataDir, TokenFileName))

	// The cluster works over its TLS routes: a message crosses. (That
	// routes require TLS is shown below: a node without it stays out.)
	sub, _ := ns[1].Conn().SubscribeSync("t.tls")
	ns[1].Conn().Flush()
	waitFor(t, 5*time.Second, "a message over the TLS route", func() bool {
		ns[0].Conn().Publish("t.tls", []byte("hi"))
		m, err := sub.NextMsg(20 * time.Millisecond)
		return err == nil && string(m.Data) == "hi"
	})

	url := ns[0].ClientURL()
	connect := func(opts ...nats.Option) error {
		nc, err := nats.Connect(url, append(opts, nats.Timeout(2*time.Second))...)
		if err == nil {
			nc.Close()
		}
		return err
	}
	if err := connect(nats.Token(tok)); err == nil {
		t.Error("a client without TLS connected")
	}
	noCert := &tls.Config{RootCAs: ca.clientTLS(t, "cli").RootCAs, ServerName: TLSServerName}
	if err := connect(nats.Token(tok), nats.Secure(noCert)); err == nil {
		t.Error("a client without a certificate connected")
	}
	if err := connect(nats.Secure(ca.clientTLS(t, "cli"))); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("a client with a certificate and no token: %v, want an authorization error", err)
	}
	if err := connect(nats.Token(tok), nats.Secure(newTestCA(t).clientTLS(t, "cli"))); err == nil {
		t.Error("a client with another CA's certificate connected")
	}
	if err := connect(nats.Token(tok), nats.Secure(ca.clientTLS(t, "cli"))); err != nil {
		t.Errorf("a client with a certificate and the token: %v", err)
	}

	// A node without the CA's certificate, with the token, is refused.
	other := newTestCA(t)
	c := testConfig(t, "intruder")
	other.useTLS(t, &c)
	c.Join, c.Token = []string{ns[0].RouteURL()}, tok
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Start(ctx, c)
	if err == nil {
		closeNode(t, n)
		t.Fatal("a node with another CA's certificate joined")
	}
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("error %q: want ErrRefused naming TLS", err)
	}
	// And a node without TLS at all.
	c = testConfig(t, "plain")
	c.Join, c.Token, c.JoinTimeout = []string{ns[0].RouteURL()}, tok, 2*time.Second
	if n, err := Start(ctx, c); err == nil {
		if len(n.Members()) > 1 {
			t.Errorf("a node without TLS joined: members %v", names(n.Members()))
		}
		closeNode(t, n)
	}
	// A node with the CA's certificate and the wrong token is refused too.
	c = testConfig(t, "tokenless")
	ca.useTLS(t, &c)
	c.Join, c.Token = []string{ns[0].RouteURL()}, "not-the-cluster-token-0123456789"
	if n, err := Start(ctx, c); err == nil {
		closeNode(t, n)
		t.Error("a node with the CA's certificate and the wrong token joined")
	} else if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "token") {
		t.Errorf("error %q: want ErrRefused naming the token", err)
	}
	for _, m := range ns {
		if p := m.Peers(); !slices.Equal(p, []string{ns[1-slices.Index(ns, m)].Name()}) {
			t.Errorf("%s has routes to %v", m.Name(), p)
		}
	}
}

// A node on an external NATS (--nats) connects with TLS and its
// certificate.
func TestTLSExternalNATS(t *testing.T) {
	ca := newTestCA(t)
	hc := testConfig(t, "hub")
	ca.useTLS(t, &hc)
	hub := startNode(t, hc)
	tok, _ := readToken(filepath.Join(hc.DataDir, TokenFileName))
	c := testConfig(t, "remote")
	c.DataDir, c.NATS, c.Token = "", hub.ClientURL(), tok
	ca.useTLS(t, &c)
	n := startNode(t, c)
	if !n.Conn().TLSRequired() {
		t.Error("the connection to the external NATS is not TLS")
	}
	waitFor(t, 5*time.Second, "the hub to see the remote node", func() bool {
		return slices.Equal(names(hub.Members()), []string{"hub", "remote"})
	})
}

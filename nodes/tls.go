package nodes

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSServerName is the name every node certificate carries (a DNS subject
// alternative name) and every node checks when it connects to another
// server: nodes find each other by addresses that change (home networks,
// NAT), so a certificate vouches for "a node of the cluster whose CA signed
// it", not for an address. NewNodeCert puts it in every certificate; a
// certificate made with other tools needs it too.
const TLSServerName = "node.wbox"

// clusterTLS is a node's certificate and the cluster CA it trusts.
type clusterTLS struct {
	cert tls.Certificate
	ca   *x509.CertPool
}

// loadTLS reads Config.TLSCert, TLSKey and TLSCA; nil when none is set.
func loadTLS(c Config) (*clusterTLS, error) {
	if c.TLSCert == "" && c.TLSKey == "" && c.TLSCA == "" {
		return nil, nil
	}
	if c.TLSCert == "" || c.TLSKey == "" || c.TLSCA == "" {
		return nil, errors.New("TLS needs all of --tls-cert, --tls-key and --tls-ca")
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	pem, err := os.ReadFile(c.TLSCA)
	if err != nil {
		return nil, fmt.Errorf("TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA %s: no PEM certificate in it", c.TLSCA)
	}
	// Refuse a certificate the other nodes would refuse, now rather than
	// on every connection.
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s: %w", c.TLSCert, err)
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if ic, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(ic)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: TLSServerName, Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("TLS certificate %s does not pass for a node of the cluster of CA %s: %w", c.TLSCert, c.TLSCA, err)
	}
	return &clusterTLS{cert: cert, ca: pool}, nil
}

// config is the TLS configuration of every listener and every outgoing
// connection between servers and to them: both sides show a certificate
// signed by the cluster CA.
func (t *clusterTLS) config() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.cert},
		// As a server: clients, routes and leaf nodes must show a
		// certificate of the cluster.
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  t.ca,
		// As a client (routes, leaf nodes, --nats): the server must be a
		// node of the cluster.
		RootCAs:    t.ca,
		ServerName: TLSServerName,
	}
}

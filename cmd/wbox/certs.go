package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wbox-dev/wbox/nodes"
)

// `wbox certs`: the cluster CA and node certificates for TLS between nodes
// (nodes.NewCA, nodes.NewNodeCert).

const certsUsage = `certs ca|node [flags]

  wbox certs ca [--dir DIR] [--cluster NAME]
      makes the cluster CA: DIR/ca.crt (give it to every node, --tls-ca)
      and DIR/ca.key (keep it off the nodes: it admits nodes)
  wbox certs node [--dir DIR] [--out DIR] NAME [HOST...]
      makes node NAME's certificate and key, signed by DIR's CA, in
      OUT/NAME.crt and OUT/NAME.key (--tls-cert, --tls-key); HOSTs are
      extra DNS names or IP addresses for clients that check them

Nodes check each other's certificates against the CA and the name
` + nodes.TLSServerName + ` that every node certificate carries, not against addresses.`

func runCerts(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: wbox "+certsUsage)
		return exitCode(2)
	}
	fs := newFlags("certs "+args[0], certsUsage, stderr)
	dir := fs.String("dir", ".", "the directory of the CA's ca.crt and ca.key")
	switch args[0] {
	case "ca":
		cluster := fs.String("cluster", "wbox", "the cluster's name (for the CA's subject)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 0 {
			fs.Usage()
			return exitCode(2)
		}
		cert, key, err := nodes.NewCA(*cluster)
		if err != nil {
			return err
		}
		crt, kf := filepath.Join(*dir, "ca.crt"), filepath.Join(*dir, "ca.key")
		if err := writeNew(kf, key, 0o600); err != nil {
			return err
		}
		if err := writeNew(crt, cert, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "made the cluster CA: %s (for every node: --tls-ca) and %s (secret)\n", crt, kf)
		return nil
	case "node":
		out := fs.String("out", ".", "where to write NAME.crt and NAME.key")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() < 1 {
			fs.Usage()
			return exitCode(2)
		}
		name := fs.Arg(0)
		caCert, err := os.ReadFile(filepath.Join(*dir, "ca.crt"))
		if err != nil {
			return fmt.Errorf("the cluster CA (make it with `wbox certs ca`): %w", err)
		}
		caKey, err := os.ReadFile(filepath.Join(*dir, "ca.key"))
		if err != nil {
			return fmt.Errorf("the cluster CA's key: %w", err)
		}
		cert, key, err := nodes.NewNodeCert(caCert, caKey, name, fs.Args()[1:])
		if err != nil {
			return err
		}
		crt, kf := filepath.Join(*out, name+".crt"), filepath.Join(*out, name+".key")
		if err := writeNew(kf, key, 0o600); err != nil {
			return err
		}
		if err := writeNew(crt, cert, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "made node %s's certificate: --tls-cert %s --tls-key %s --tls-ca %s\n", name, crt, kf, filepath.Join(*dir, "ca.crt"))
		return nil
	default:
		fmt.Fprintln(stderr, "Usage: wbox "+certsUsage)
		return exitCode(2)
	}
}

// writeNew writes a file that must not exist yet: certificates and keys
// are never overwritten by mistake.
func writeNew(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already: not overwriting it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// Command idlebase is the baseline of BenchmarkIdleNode: a bare nats-server
// embedded in a tiny Go program, configured as an idle `wbox node` seed
// configures its own (JetStream in a data directory, a client port, a
// route port with a route to itself, token auth), and nothing else. It
// prints "ready" when the server accepts connections and runs until its
// stdin closes.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	data := flag.String("data", "", "the JetStream directory's parent")
	port := flag.Int("port", 4222, "the client port on 127.0.0.1")
	flag.Parse()
	if err := run(*data, *port); err != nil {
		fmt.Fprintln(os.Stderr, "idlebase:", err)
		os.Exit(1)
	}
}

func run(data string, port int) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cport := l.Addr().(*net.TCPAddr).Port
	l.Close()
	const tok = "idle-baseline-token-0123456789abcdef"
	srv, err := server.NewServer(&server.Options{
		ServerName: "base", Host: "127.0.0.1", Port: port, NoSigs: true,
		Authorization: tok, JetStream: true, JetStreamDomain: "wbox",
		StoreDir: filepath.Join(data, "nats"), DisableJetStreamBanner: true, MaxPayload: 8 << 20,
		Cluster: server.ClusterOpts{Name: "wbox", Host: "127.0.0.1", Port: cport, Username: "wbox", Password: tok,
			PingInterval: time.Second, MaxPingsOut: 3},
		Routes: []*url.URL{{Scheme: "nats", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(cport)), User: url.UserPassword("wbox", tok)}},
	})
	if err != nil {
		return err
	}
	srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		return fmt.Errorf("not ready in time")
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	srv.Shutdown()
	srv.WaitForShutdown()
	return nil
}

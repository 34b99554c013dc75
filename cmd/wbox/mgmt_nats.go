package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Remote management: every node of a cluster serves its management API
// over NATS, so the CLI can manage a cluster from anywhere:
//
//	wbox --cluster nats://host:4222 --creds FILE [--node NAME] status
//
// A request is an HTTP/1.1 request (as written by http.Request.Write) sent
// to wbox.<cluster>.mgmt (any node answers: a queue group) or
// wbox.<cluster>.mgmt.<node> (that node), with a reply inbox. The node
// answers on the inbox with a stream of messages: the first carries the
// status (header Wbox-Status) and the response's headers, the next ones
// the body as it is flushed (so `logs -f` streams), the last one header
// Wbox-End. The client stops a stream early by publishing to INBOX.stop.
// `logs BOX` and `stop BOX` go to the node that runs BOX (from the
// cluster's status), so `wbox --cluster … logs -f BOX` follows a box
// wherever it runs. A follower that dies without closing its stream leaves
// the node streaming to nobody until the node stops.
//
// deploy and plan send the topology file as the local CLI does: the
// components it names by path must exist at those paths on the node that
// answers (or be named by sha256 digest in the cluster's store).
//
// --creds is the cluster token file (DIR/cluster.token of a node) or a
// NATS credentials file (.creds, for an external NATS).

const (
	hdrMgmtStatus = "Wbox-Status"
	hdrMgmtEnd    = "Wbox-End"
	hdrMgmtError  = "Wbox-Mgmt-Error"
	mgmtChunk     = 32 << 10
)

// remoteTarget is set by the global flags --cluster and --creds.
var remoteTarget *remoteCluster

type remoteCluster struct {
	url, creds, name, node string

	once sync.Once
	nc   *nats.Conn
	err  error
}

// globalFlags parses the flags before the command name.
func globalFlags(args []string, stderr io.Writer) ([]string, error) {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help" {
		return args, nil
	}
	fs := newFlags("wbox", "[--cluster nats://HOST:PORT --creds FILE [--cluster-name NAME] [--node NAME]] COMMAND ...", stderr)
	rc := &remoteCluster{}
	fs.StringVar(&rc.url, "cluster", "", "manage the cluster reachable at this NATS `URL` instead of the local node")
	fs.StringVar(&rc.creds, "creds", "", "the cluster token `FILE` (a node's DIR/cluster.token) or a NATS .creds file")
	fs.StringVar(&rc.name, "cluster-name", "wbox", "the cluster's `name` (its nodes' --cluster)")
	fs.StringVar(&rc.node, "node", "", "send commands to this `node` (default: any; logs BOX: the node running BOX)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if rc.url == "" {
		return nil, errors.New("global flags need --cluster URL")
	}
	remoteTarget = rc
	return fs.Args(), nil
}

func (rc *remoteCluster) conn() (*nats.Conn, error) {
	rc.once.Do(func() {
		opts := []nats.Option{nats.Name("wbox cli"), nats.Timeout(5 * time.Second)}
		if rc.creds != "" {
			b, err := os.ReadFile(rc.creds)
			if err != nil {
				rc.err = fmt.Errorf("--creds: %w", err)
				return
			}
			if bytes.Contains(b, []byte("BEGIN NATS USER JWT")) {
				opts = append(opts, nats.UserCredentials(rc.creds))
			} else {
				opts = append(opts, nats.Token(strings.TrimSpace(string(b))))
			}
		}
		rc.nc, rc.err = nats.Connect(rc.url, opts...)
		if rc.err != nil {
			rc.err = fmt.Errorf("connecting to the cluster at %s: %w", rc.url, rc.err)
		}
	})
	return rc.nc, rc.err
}

func (rc *remoteCluster) subject(node string) string {
	if node == "" {
		return "wbox." + rc.name + ".mgmt"
	}
	return "wbox." + rc.name + ".mgmt." + node
}

// client returns a management client whose requests go over NATS.
func (rc *remoteCluster) client() *client {
	return &client{data: "cluster " + rc.url, hc: &http.Client{Transport: rc}}
}

// RoundTrip implements http.RoundTripper over NATS.
func (rc *remoteCluster) RoundTrip(req *http.Request) (*http.Response, error) {
	nc, err := rc.conn()
	if err != nil {
		return nil, err
	}
	node := rc.node
	if task := req.URL.Query().Get("task"); node == "" && req.URL.Path == "/v1/logs" && task != "" {
		if node, err = rc.where(req.Context(), task); err != nil {
			return nil, err
		}
	}
	if node == "" && req.URL.Path == "/v1/stop" && req.Body != nil {
		// stop BOX goes to the node that runs BOX (all the boxes named
		// must run on one node).
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		var sr stopRequest
		if json.Unmarshal(b, &sr) == nil && len(sr.Boxes) > 0 {
			if node, err = rc.where(req.Context(), sr.Boxes[0]); err != nil {
				return nil, err
			}
		}
	}
	return rc.send(req, nc, rc.subject(node))
}

// where finds the node that runs a box, from the cluster's status.
func (rc *remoteCluster) where(ctx context.Context, box string) (string, error) {
	nc, _ := rc.conn()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://wbox/v1/status", nil)
	resp, err := rc.send(req, nc, rc.subject(""))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var st statusResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", fmt.Errorf("the cluster's status: %w", err)
	}
	if st.Cluster == nil {
		return "", nil
	}
	for _, n := range st.Cluster.Nodes {
		for _, b := range n.Boxes {
			if b == box {
				return n.Name, nil
			}
		}
	}
	return "", nil // not running: any node answers with its error
}

func (rc *remoteCluster) send(req *http.Request, nc *nats.Conn, subject string) (*http.Response, error) {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, err
	}
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	if err := nc.PublishMsg(&nats.Msg{Subject: subject, Reply: inbox, Data: buf.Bytes()}); err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	ctx := req.Context()
	first, err := nextMsg(ctx, sub, 15*time.Second)
	if err != nil {
		sub.Unsubscribe()
		if errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no wbox node answered on %s at %s: %w", subject, rc.url, err)
		}
		return nil, err
	}
	if e := first.Header.Get(hdrMgmtError); e != "" {
		sub.Unsubscribe()
		return nil, errors.New(e)
	}
	code, _ := strconv.Atoi(first.Header.Get(hdrMgmtStatus))
	resp := &http.Response{StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), Header: http.Header{},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req}
	for k, v := range first.Header {
		if k != hdrMgmtStatus {
			resp.Header[k] = v
		}
	}
	pr, pw := io.Pipe()
	resp.Body = &streamBody{PipeReader: pr, stop: func() { nc.Publish(inbox+".stop", nil) }}
	go func() {
		defer sub.Unsubscribe()
		for {
			m, err := nextMsg(ctx, sub, 0)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if m.Header.Get(hdrMgmtEnd) != "" {
				pw.Close()
				return
			}
			if _, err := pw.Write(m.Data); err != nil {
				return
			}
		}
	}()
	return resp, nil
}

// nextMsg waits for the next message, until ctx ends (or timeout, if set).
func nextMsg(ctx context.Context, sub *nats.Subscription, timeout time.Duration) (*nats.Msg, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return sub.NextMsgWithContext(ctx)
}

// streamBody is a response body that tells the node to stop streaming
// when closed early.
type streamBody struct {
	*io.PipeReader
	stop func()
	once sync.Once
}

func (b *streamBody) Close() error {
	b.once.Do(b.stop)
	return b.PipeReader.Close()
}

// serveManagement answers management requests over NATS with h until the
// returned function is called.
func serveManagement(nc *nats.Conn, cluster, node string, h http.Handler) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	handle := func(m *nats.Msg) {
		if m.Reply == "" {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveMgmtMsg(ctx, nc, m, h)
		}()
	}
	q, err := nc.QueueSubscribe("wbox."+cluster+".mgmt", "wbox.mgmt", handle)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("serving management over NATS: %w", err)
	}
	direct, err := nc.Subscribe("wbox."+cluster+".mgmt."+node, handle)
	if err != nil {
		q.Unsubscribe()
		cancel()
		return nil, fmt.Errorf("serving management over NATS: %w", err)
	}
	return func() {
		q.Unsubscribe()
		direct.Unsubscribe()
		cancel()
		wg.Wait()
	}, nil
}

func serveMgmtMsg(ctx context.Context, nc *nats.Conn, m *nats.Msg, h http.Handler) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(m.Data)))
	if err != nil {
		nc.PublishMsg(&nats.Msg{Subject: m.Reply, Header: nats.Header{hdrMgmtError: []string{"bad management request: " + err.Error()}}})
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop, err := nc.Subscribe(m.Reply+".stop", func(*nats.Msg) { cancel() })
	if err == nil {
		defer stop.Unsubscribe()
	}
	req.RequestURI = ""
	req.URL = &url.URL{Path: req.URL.Path, RawQuery: req.URL.RawQuery}
	w := &natsResponse{nc: nc, reply: m.Reply, header: http.Header{}}
	h.ServeHTTP(w, req.WithContext(ctx))
	w.Flush()
	nc.PublishMsg(&nats.Msg{Subject: m.Reply, Header: nats.Header{hdrMgmtEnd: []string{"1"}}})
}

// natsResponse is an http.ResponseWriter streaming to a reply inbox.
type natsResponse struct {
	nc     *nats.Conn
	reply  string
	header http.Header
	status int
	sent   bool
	buf    []byte
}

func (w *natsResponse) Header() http.Header { return w.header }

func (w *natsResponse) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *natsResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.buf = append(w.buf, p...)
	if len(w.buf) >= mgmtChunk {
		w.Flush()
	}
	return len(p), nil
}

// Flush sends the status and headers (once), then what was written.
func (w *natsResponse) Flush() {
	w.WriteHeader(http.StatusOK)
	if !w.sent {
		h := nats.Header{hdrMgmtStatus: []string{strconv.Itoa(w.status)}}
		for k, v := range w.header {
			h[k] = v
		}
		w.nc.PublishMsg(&nats.Msg{Subject: w.reply, Header: h})
		w.sent = true
	}
	for len(w.buf) > 0 {
		n := min(len(w.buf), mgmtChunk)
		w.nc.PublishMsg(&nats.Msg{Subject: w.reply, Data: w.buf[:n]})
		w.buf = w.buf[n:]
	}
	w.buf = nil
}

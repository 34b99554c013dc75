package redisnative

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wbox-dev/wbox/drivers/kv"
	"github.com/wbox-dev/wbox/kernel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		args []string
		n    int
		need int
		err  string
	}{
		{in: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nrest", args: []string{"GET", "k"}, n: 20},
		{in: "*0\r\n", args: []string{}, n: 4},
		{in: "PING\r\n", args: []string{"PING"}, n: 6},
		{in: "  SET  a\tb \n", args: []string{"SET", "a", "b"}, n: 12},
		{in: "   \r\n", args: []string{}, n: 5},
		{in: "*2\r\n$3\r\nGET\r\n$10\r\nabc", need: 30},
		{in: "*2\r\n$3\r\nGE", need: 13},
		{in: "*2\r"},
		{in: "PIN"},
		{in: "*x\r\n", err: "invalid multibulk length"},
		{in: "*-1\r\n", err: "invalid multibulk length"},
		{in: "*5000\r\n", err: "invalid multibulk length"},
		{in: "*1\r\n+OK\r\n", err: "expected '$'"},
		{in: "*1\r\n$2000000\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$1\r\nab\r\n", err: "not followed by CRLF"},
		{in: "*1\r\n$1\rx", err: "invalid bulk length"},
		{in: strings.Repeat("a", MaxInline+1), err: "too big inline"},
	} {
		args, n, need, err := Parse([]byte(tc.in), nil)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%.30q): err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || n != tc.n || need != tc.need {
			t.Errorf("Parse(%.30q) = n %d need %d err %v, want n %d need %d", tc.in, n, need, err, tc.n, tc.need)
			continue
		}
		if n > 0 {
			var got []string
			for _, a := range args {
				got = append(got, string(a))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.args) {
				t.Errorf("Parse(%.30q) args %q, want %q", tc.in, got, tc.args)
			}
		}
	}
}

// FuzzParse: Parse never panics, never claims more bytes than it has, and
// what it parses from an array re-encodes to the bytes it took.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "*1\r\n$-1\r\n", "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\nv\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		args, n, need, err := Parse(b, nil)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		if n < 0 || n > len(b) || need < 0 || (n > 0 && need != 0) {
			t.Fatalf("n %d need %d for %d bytes", n, need, len(b))
		}
		if need > 0 && need <= len(b) {
			t.Fatalf("needs %d bytes but has %d and parsed nothing", need, len(b))
		}
		if n > 0 && b[0] == '*' {
			var e bytes.Buffer
			fmt.Fprintf(&e, "*%d\r\n", len(args))
			for _, a := range args {
				fmt.Fprintf(&e, "$%d\r\n%s\r\n", len(a), a)
			}
			again, m, _, err := Parse(e.Bytes(), nil)
			if err != nil || m != e.Len() || len(again) != len(args) {
				t.Fatalf("re-encoded %q: n %d err %v", e.Bytes(), m, err)
			}
			for i := range args {
				if !bytes.Equal(again[i], args[i]) {
					t.Fatalf("arg %d: %q != %q", i, again[i], args[i])
				}
			}
		}
	})
}

// The server over a real kv driver: pipelined commands over a real socket.
func TestServer(t *testing.T) {
	n, err := kv.New(kernel.DriverSpec{Name: "kv", Kind: kv.Kind}, kernel.DriverEnv{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	store := n.(*kv.Driver)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- store.Run(ctx) }()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Store: store, Caller: "redis"}
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ctx, l) }()
	defer func() {
		cancel()
		if err := <-serveDone; err != nil {
			t.Error(err)
		}
		if err := <-runDone; err != nil {
			t.Error(err)
		}
	}()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nGET nope\r\nINCR n\r\nINCR n\r\nQUIT\r\n")
	got, _ := io.ReadAll(bufio.NewReader(c))
	if want := "+PONG\r\n+OK\r\n$2\r\nv1\r\n$-1\r\n:1\r\n:2\r\n+OK\r\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c2, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c2, "*1\r\n$x\r\n")
	got, _ = io.ReadAll(c2)
	if !strings.HasPrefix(string(got), "-ERR Protocol error") {
		t.Fatalf("malformed: %q", got)
	}
}

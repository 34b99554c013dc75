package redisnative

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
)

// Store is what the server keeps its data in: kv.Driver's Go API.
type Store interface {
	Get(ctx context.Context, caller, bucket, key string) ([]byte, bool, error)
	Set(ctx context.Context, caller, bucket, key string, val []byte) error
	Increment(ctx context.Context, caller, bucket, key string, delta int64) (int64, error)
}

// Server serves RESP2 clients from a Store, in the namespace of Caller and
// the bucket "default".
type Server struct {
	Store  Store
	Caller string
	Log    *slog.Logger
}

// Serve accepts connections on l until ctx ends, then closes them and
// returns once every connection's goroutine is done.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serve(ctx, c)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
}

func (s *Server) serve(ctx context.Context, c net.Conn) {
	w := bufio.NewWriterSize(c, 64<<10)
	buf := make([]byte, 0, 64<<10)
	args := make([][]byte, 0, 8)
	for {
		if cap(buf)-len(buf) < 4<<10 {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		m, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return
		}
		pos := 0
		for pos < len(buf) {
			var n int
			args, n, _, err = Parse(buf[pos:], args)
			if err != nil {
				w.WriteString("-ERR Protocol error: " + err.Error() + "\r\n")
				w.Flush()
				return
			}
			if n == 0 {
				break
			}
			pos += n
			if len(args) > 0 && s.run(ctx, w, args) {
				w.Flush()
				return
			}
		}
		if err := w.Flush(); err != nil {
			return
		}
		rest := copy(buf, buf[pos:])
		buf = buf[:rest]
		if len(buf) > MaxBulk+(64<<10) {
			return
		}
	}
}

func upper(b []byte) string { return string(bytes.ToUpper(b)) }

// run answers one command; true closes the connection.
func (s *Server) run(ctx context.Context, w *bufio.Writer, args [][]byte) bool {
	switch upper(args[0]) {
	case "PING":
		w.WriteString("+PONG\r\n")
	case "QUIT":
		w.WriteString("+OK\r\n")
		return true
	case "COMMAND":
		w.WriteString("*0\r\n")
	case "CONFIG":
		w.WriteString("*0\r\n")
	case "GET":
		if len(args) != 2 {
			w.WriteString("-ERR wrong number of arguments for 'get' command\r\n")
			break
		}
		v, ok, err := s.Store.Get(ctx, s.Caller, "default", string(args[1]))
		switch {
		case err != nil:
			s.storeErr(w, err)
		case !ok:
			w.WriteString("$-1\r\n")
		default:
			w.WriteString("$" + strconv.Itoa(len(v)) + "\r\n")
			w.Write(v)
			w.WriteString("\r\n")
		}
	case "SET":
		if len(args) != 3 {
			w.WriteString("-ERR this baseline knows only SET key value\r\n")
			break
		}
		if err := s.Store.Set(ctx, s.Caller, "default", string(args[1]), bytes.Clone(args[2])); err != nil {
			s.storeErr(w, err)
			break
		}
		w.WriteString("+OK\r\n")
	case "INCR":
		if len(args) != 2 {
			w.WriteString("-ERR wrong number of arguments for 'incr' command\r\n")
			break
		}
		n, err := s.Store.Increment(ctx, s.Caller, "default", string(args[1]), 1)
		if err != nil {
			s.storeErr(w, err)
			break
		}
		w.WriteString(":" + strconv.FormatInt(n, 10) + "\r\n")
	default:
		w.WriteString("-ERR unknown command\r\n")
	}
	return false
}

func (s *Server) storeErr(w *bufio.Writer, err error) {
	if s.Log != nil && !errors.Is(err, context.Canceled) {
		s.Log.Warn("redisnative: store error", "err", err)
	}
	w.WriteString("-ERR store: " + strconv.Quote(err.Error()) + "\r\n")
}

// Package redisnative is the baseline of the redis benchmark (bench/redis.sh,
// BenchmarkRedis): a plain Go RESP2 server over the same kv driver the
// redis-kv box uses, with no box, no tcp driver and no kernel in between. It
// serves what redis-benchmark's GET and SET tests send (PING, GET, SET,
// INCR, CONFIG GET, COMMAND, QUIT), one goroutine per connection, pipelined
// replies flushed together.
//
// It is a yardstick, not a product: wbox serves Redis clients with the
// redis-kv box (components/redis-kv). It owns its listener and connections
// and touches the store only through the Store interface.
package redisnative

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Caps on a request, the same as the redis-kv box's.
const (
	MaxArgs   = 4096
	MaxBulk   = 1 << 20
	MaxInline = 64 << 10
)

// ErrProtocol is wrapped by every error of Parse: the connection is beyond
// repair and must be closed.
var ErrProtocol = errors.New("protocol error")

func protoErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, a...))
}

// Parse reads one request from the start of b: a RESP array of bulk strings
// or an inline line. It returns its arguments (slices of b, appended to
// args[:0]) and the bytes it took. When b holds only part of a request, n is
// 0 and need is the bytes the request needs in all, when known (else 0).
// An inline line of only spaces gives no arguments and n > 0.
func Parse(b []byte, args [][]byte) (out [][]byte, n, need int, err error) {
	out = args[:0]
	if len(b) == 0 {
		return out, 0, 0, nil
	}
	if b[0] != '*' {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			if len(b) > MaxInline {
				return out, 0, 0, protoErr("too big inline request")
			}
			return out, 0, 0, nil
		}
		line := b[:nl]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		for len(line) > 0 {
			i := 0
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			line = line[i:]
			if len(line) == 0 {
				break
			}
			j := 0
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			if len(out) == MaxArgs {
				return out, 0, 0, protoErr("too many arguments")
			}
			out = append(out, line[:j])
			line = line[j:]
		}
		return out, nl + 1, 0, nil
	}
	i := 1
	count, i, ok, err := parseLen(b, i)
	if err != nil || (ok && (count < 0 || count > MaxArgs)) {
		return out, 0, 0, protoErr("invalid multibulk length")
	}
	if !ok {
		return out, 0, 0, nil
	}
	for range count {
		if i >= len(b) {
			return out, 0, 0, nil
		}
		if b[i] != '$' {
			return out, 0, 0, protoErr("expected '$', got %q", b[i])
		}
		var l int
		l, i, ok, err = parseLen(b, i+1)
		if err != nil || (ok && (l < 0 || l > MaxBulk)) {
			return out, 0, 0, protoErr("invalid bulk length")
		}
		if !ok {
			return out, 0, 0, nil
		}
		if len(b)-i < l+2 {
			return out, 0, i + l + 2, nil
		}
		if b[i+l] != '\r' || b[i+l+1] != '\n' {
			return out, 0, 0, protoErr("bulk string not followed by CRLF")
		}
		out = append(out, b[i:i+l])
		i += l + 2
	}
	return out, i, 0, nil
}

// parseLen reads "<integer>\r\n" at b[i:].
func parseLen(b []byte, i int) (v, next int, ok bool, err error) {
	cr := bytes.IndexByte(b[i:], '\r')
	if cr < 0 {
		if len(b)-i > 32 {
			return 0, 0, false, protoErr("length line too long")
		}
		return 0, 0, false, nil
	}
	end := i + cr
	if end+1 >= len(b) {
		return 0, 0, false, nil
	}
	if b[end+1] != '\n' {
		return 0, 0, false, protoErr("length not followed by CRLF")
	}
	v64, perr := strconv.ParseInt(string(b[i:end]), 10, 32)
	if perr != nil {
		return 0, 0, false, protoErr("bad length %q", b[i:end])
	}
	return int(v64), end + 2, true, nil
}

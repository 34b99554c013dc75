// Command http-go is wbox's HTTP test and example box in Go: `wbox build`
// compiles it with GOOS=wasip1 into a component exporting
// wasi:http/incoming-handler, and components/build.sh builds it into
// build/components/http-go.wasm for the end-to-end tests and benchmarks.
//
// Routes:
//
//	/crash        the handler panics: the Go runtime exits with status 2,
//	              which fails the box (its supervisor restarts it)
//	/sleep?ms=N   sleeps N milliseconds (at most 60000), then answers
//	anything else echoes the request: "METHOD PATH x-hello=VALUE
//	              body=LENGTH:BODY", BODY cut to 64 bytes
//
// The bindings in gen/ are generated from wit/ (and wit/deps: wasi:http,
// wasi:io, wasi:clocks) by `wbox build`. wasi:http's resources are handle
// types with methods; own handles must be dropped or passed on.
package main

import (
	"strconv"
	"strings"
	"time"

	"http-go/gen/cabi"
	"http-go/gen/wasi/http/incominghandler"
	"http-go/gen/wasi/http/types"
	"http-go/gen/wasi/io/streams"
)

func init() {
	incominghandler.Exports.Handle = Handle
}

// Handle serves one request.
func Handle(req types.IncomingRequest, out types.ResponseOutparam) {
	target, _ := req.PathWithQuery().Get()
	path, query, _ := strings.Cut(target, "?")
	switch path {
	case "/crash":
		req.Drop()
		panic("http-go: /crash asked for it")
	case "/sleep":
		req.Drop()
		ms, _ := strconv.Atoi(strings.TrimPrefix(query, "ms="))
		time.Sleep(time.Duration(min(ms, 60000)) * time.Millisecond)
		respond(out, 200, "slept "+strconv.Itoa(ms)+"ms\n")
		return
	}
	method := methodName(req.Method())
	headers := req.Headers()
	hello := ""
	if vs := headers.Get("x-hello"); len(vs) > 0 {
		hello = string(vs[0])
	}
	headers.Drop()
	body, ok := readBody(req)
	req.Drop()
	if !ok {
		respond(out, 400, "cannot read the request body\n")
		return
	}
	shown := body
	if len(shown) > 64 {
		shown = shown[:64]
	}
	respond(out, 200, method+" "+path+" x-hello="+hello+" body="+strconv.Itoa(len(body))+":"+string(shown))
}

// readBody reads the whole request body.
func readBody(req types.IncomingRequest) ([]byte, bool) {
	b := req.Consume()
	if b.IsErr {
		return nil, false
	}
	s := b.OK.Stream()
	if s.IsErr {
		b.OK.Drop()
		return nil, false
	}
	var body []byte
	ok := true
	for {
		// Small reads: the host allocates what a read asks for.
		r := s.OK.BlockingRead(4096)
		if r.IsErr {
			ok = r.Err.Tag == streams.StreamErrorCaseClosed
			break
		}
		body = append(body, r.OK...)
	}
	s.OK.Drop()
	types.IncomingBodyFinish(b.OK).Drop()
	return body, ok
}

func methodName(m types.Method) string {
	if m.Tag == types.MethodCaseOther {
		return m.Other
	}
	return [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}[m.Tag]
}

// respond sends a complete text response.
func respond(out types.ResponseOutparam, status uint16, body string) {
	headers := types.NewFields()
	headers.Append("content-type", []byte("text/plain; charset=utf-8"))
	resp := types.NewOutgoingResponse(headers)
	resp.SetStatusCode(status)
	b := resp.Body().OK
	types.ResponseOutparamSet(out, cabi.OK[types.OutgoingResponse, types.ErrorCode](resp))
	w := b.Write().OK
	w.BlockingWriteAndFlush([]byte(body))
	w.Drop()
	types.OutgoingBodyFinish(b, cabi.None[types.Trailers]())
}

// main never runs: a box is a library of exports (-buildmode=c-shared).
func main() {}

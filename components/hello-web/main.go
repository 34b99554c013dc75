// Command hello-web is the hello example's HTTP front: GET /NAME greets
// NAME through the hello app (an arrow to the front box) and answers
// "GREETING (visit N)". The bindings in gen/ are generated from wit/ by
// `wbox build`.
package main

import (
	"strconv"
	"strings"

	"hello-web/gen/cabi"
	"hello-web/gen/wasi/http/incominghandler"
	"hello-web/gen/wasi/http/types"
	"hello-web/gen/wbox/hello/app"
)

func init() {
	incominghandler.Exports.Handle = Handle
}

// Handle greets the name in the path.
func Handle(req types.IncomingRequest, out types.ResponseOutparam) {
	target, _ := req.PathWithQuery().Get()
	req.Drop()
	path, _, _ := strings.Cut(target, "?")
	name := strings.Trim(path, "/")
	if name == "" {
		name = "world"
	}
	v := app.Hello(name)
	respond(out, 200, v.Greeting+" (visit "+strconv.FormatUint(v.Visits, 10)+")\n")
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

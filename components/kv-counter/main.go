// Command kv-counter is wbox's visit counter: an HTTP box (it exports
// wasi:http/incoming-handler) that counts the visits of every path in the
// node's key-value store through wasi:keyvalue.
//
// GET /some/path increments the count of /some/path atomically
// (wasi:keyvalue/atomics increment, in the bucket "visits") and answers
// with it: as text, or as JSON when the request accepts application/json or
// has ?format=json. Every visit is also logged through wasi:logging.
//
// The bindings in gen/ are generated from wit/ by `wbox build`.
package main

import (
	"strconv"
	"strings"

	"kv-counter/gen/cabi"
	"kv-counter/gen/wasi/http/incominghandler"
	"kv-counter/gen/wasi/http/types"
	"kv-counter/gen/wasi/keyvalue/atomics"
	"kv-counter/gen/wasi/keyvalue/store"
	"kv-counter/gen/wasi/logging/logging"
)

// Bucket is the wasi:keyvalue bucket the counts live in.
const Bucket = "visits"

// maxPath is the longest path counted (the kv driver's keys are at most
// 4096 bytes).
const maxPath = 4096

func init() {
	incominghandler.Exports.Handle = Handle
}

// Handle counts a visit and answers with the count.
func Handle(req types.IncomingRequest, out types.ResponseOutparam) {
	method := req.Method()
	target, _ := req.PathWithQuery().Get()
	headers := req.Headers()
	var accept []string
	for _, v := range headers.Get("accept") {
		accept = append(accept, string(v))
	}
	headers.Drop()
	req.Drop()

	if method.Tag != types.MethodCaseGet && method.Tag != types.MethodCaseHead {
		respond(out, 405, "text/plain; charset=utf-8", "only GET and HEAD count visits\n")
		return
	}
	path, asJSON := ParseTarget(target, strings.Join(accept, ","))
	if len(path) > maxPath {
		respond(out, 414, "text/plain; charset=utf-8", "path too long\n")
		return
	}
	n, err := visit(path)
	if err != "" {
		logging.Log(logging.LevelError, "kv-counter", "counting "+path+": "+err)
		respond(out, 500, "text/plain; charset=utf-8", "cannot count: "+err+"\n")
		return
	}
	logging.Log(logging.LevelInfo, "kv-counter", path+" visit "+strconv.FormatInt(n, 10))
	ctype, body := Render(path, n, asJSON)
	respond(out, 200, ctype, body)
}

// visit increments the count of path and returns it.
func visit(path string) (int64, string) {
	b := store.Open(Bucket)
	if b.IsErr {
		return 0, errText(b.Err)
	}
	defer b.OK.Drop()
	r := atomics.Increment(b.OK, path, 1)
	if r.IsErr {
		return 0, errText(r.Err)
	}
	return r.OK, ""
}

func errText(e store.Error) string {
	switch e.Tag {
	case store.ErrorCaseNoSuchStore:
		return "no such store"
	case store.ErrorCaseAccessDenied:
		return "access denied"
	}
	return e.Other
}

// ParseTarget splits a request target into the path that is counted (the
// query left out; "/" when empty) and whether JSON was asked for, by
// ?format=json or an Accept header naming application/json.
func ParseTarget(target, accept string) (path string, asJSON bool) {
	path, query, _ := strings.Cut(target, "?")
	if path == "" {
		path = "/"
	}
	for _, kv := range strings.Split(query, "&") {
		if kv == "format=json" {
			asJSON = true
		}
	}
	if strings.Contains(accept, "application/json") {
		asJSON = true
	}
	return path, asJSON
}

// Render returns the content type and body answering a visit.
func Render(path string, n int64, asJSON bool) (string, string) {
	if asJSON {
		return "application/json", `{"path":` + strconv.Quote(path) + `,"visits":` + strconv.FormatInt(n, 10) + "}\n"
	}
	times := "times"
	if n == 1 {
		times = "time"
	}
	return "text/plain; charset=utf-8", path + " has been visited " + strconv.FormatInt(n, 10) + " " + times + "\n"
}

// respond sends a complete response with a body.
func respond(out types.ResponseOutparam, status uint16, contentType, body string) {
	headers := types.NewFields()
	headers.Append("content-type", []byte(contentType))
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

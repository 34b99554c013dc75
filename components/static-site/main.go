// Command static-site is wbox's shipped static website box: it serves the
// files of a blob driver (wbox:blob/store, through an arrow) over
// wasi:http: content types by extension, ETag/If-None-Match and
// Last-Modified/If-Modified-Since (304), single byte ranges (206, 416),
// HEAD, directory index files, optional listings, and large files streamed
// in 64 KiB reads.
//
// Config (wasi:config, the `config` of its topology entry):
//
//	index: index.html                  # the file served for a directory
//	listing: "true"                    # list a directory without an index (default: 404)
//	cache-control: public, max-age=60  # sent with every file (default: none)
//
// The HTTP logic is in site.go, plain Go tested on the host (go test);
// this file binds it to wasi:http and wbox:blob.
package main

import (
	"errors"
	"strings"

	"static-site/gen/cabi"
	"static-site/gen/wasi/config/store"
	"static-site/gen/wasi/http/incominghandler"
	"static-site/gen/wasi/http/types"
	"static-site/gen/wasi/io/streams"
	blob "static-site/gen/wbox/blob/store"
)

func init() {
	incominghandler.Exports.Handle = Handle
}

// blobStore is Store on the wbox:blob import.
type blobStore struct{}

func blobError(e blob.Error) error {
	switch e.Tag {
	case blob.ErrorCaseInvalidPath:
		return errInvalidPath
	case blob.ErrorCaseNotFound:
		return errors.New("not found")
	case blob.ErrorCaseWrongKind:
		return errors.New("not a file")
	case blob.ErrorCaseReadOnly:
		return errors.New("read-only")
	}
	return errors.New("blob store: " + e.Io)
}

func (blobStore) Stat(p string) (Meta, bool, error) {
	r := blob.Stat(p)
	if r.IsErr {
		return Meta{}, false, blobError(r.Err)
	}
	m, ok := r.OK.Get()
	return Meta{Size: m.Size, ModifiedNs: m.ModifiedNs, ETag: m.Etag, IsDir: m.IsDir}, ok, nil
}

func (blobStore) List(p string) ([]string, error) {
	r := blob.List(p)
	if r.IsErr {
		return nil, blobError(r.Err)
	}
	return r.OK, nil
}

var (
	cfg       Config
	cfgLoaded bool
)

// config reads the box's config once per instance.
func config() Config {
	if cfgLoaded {
		return cfg
	}
	get := func(k string) string {
		r := store.Get(k)
		if r.IsErr {
			return ""
		}
		v, _ := r.OK.Get()
		return v
	}
	cfg = Config{Index: "index.html", CacheControl: get("cache-control")}
	if v := get("index"); v != "" {
		cfg.Index = v
	}
	cfg.Listing = get("listing") == "true"
	cfgLoaded = true
	return cfg
}

// Handle serves one request.
func Handle(req types.IncomingRequest, out types.ResponseOutparam) {
	target, _ := req.PathWithQuery().Get()
	hdrs := req.Headers()
	r := Request{Method: method(req.Method()), Target: target, Header: func(name string) string {
		if vs := hdrs.Get(name); len(vs) > 0 {
			return string(vs[0])
		}
		return ""
	}}
	resp := Serve(blobStore{}, config(), r)
	hdrs.Drop()
	req.Drop()

	headers := types.NewFields()
	for _, h := range resp.Headers {
		headers.Append(h[0], []byte(h[1]))
	}
	or := types.NewOutgoingResponse(headers)
	or.SetStatusCode(uint16(resp.Status))
	body := or.Body().OK
	types.ResponseOutparamSet(out, cabi.OK[types.OutgoingResponse, types.ErrorCode](or))
	w := body.Write().OK
	if resp.Body != "" {
		write(w, []byte(resp.Body))
	} else if resp.File != "" {
		stream(w, resp.File, resp.ETag, resp.Offset, resp.Length)
	}
	w.BlockingFlush()
	w.Drop()
	types.OutgoingBodyFinish(body, cabi.None[types.Trailers]())
}

// stream copies length bytes of file p from off to w, ChunkSize at a
// time, all from the version whose ETag is etag.
func stream(w streams.OutputStream, p, etag string, off, length uint64) {
	for length > 0 {
		r := blob.Read(p, off, uint32(min(length, ChunkSize)), cabi.Some(etag))
		if r.IsErr || len(r.OK) == 0 {
			// Replaced (or removed) since the stat: stop rather than send a
			// mix of two versions; the client sees a body shorter than its
			// Content-Length and retries.
			return
		}
		if !write(w, r.OK) {
			return
		}
		off += uint64(len(r.OK))
		length -= uint64(len(r.OK))
	}
}

// write writes b as check-write allows; false if the stream is closed.
func write(w streams.OutputStream, b []byte) bool {
	for len(b) > 0 {
		c := w.CheckWrite()
		if c.IsErr {
			return false
		}
		if c.OK == 0 {
			if w.BlockingFlush().IsErr {
				return false
			}
			continue
		}
		n := min(uint64(len(b)), c.OK)
		if w.Write(b[:n]).IsErr {
			return false
		}
		b = b[n:]
	}
	return true
}

func method(m types.Method) string {
	names := [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
	if int(m.Tag) < len(names) {
		return names[m.Tag]
	}
	return strings.ToUpper(m.Other)
}

// main never runs: a box is a library of exports (-buildmode=c-shared).
func main() {}

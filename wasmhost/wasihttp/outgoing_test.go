package wasihttp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

const (
	fOReqNew       = "types#[constructor]outgoing-request"
	fOReqBody      = "types#[method]outgoing-request.body"
	fOReqMethod    = "types#[method]outgoing-request.set-method"
	fOReqScheme    = "types#[method]outgoing-request.set-scheme"
	fOReqAuthority = "types#[method]outgoing-request.set-authority"
	fOReqPath      = "types#[method]outgoing-request.set-path-with-query"
	fOReqGetPath   = "types#[method]outgoing-request.path-with-query"
	fOptsNew       = "types#[constructor]request-options"
	fOptsFirstByte = "types#[method]request-options.set-first-byte-timeout"
	fOptsGetFirst  = "types#[method]request-options.first-byte-timeout"
	fHandle        = "outgoing-handler#handle"
	fFutureGet     = "types#[method]future-incoming-response.get"
	fFutureSub     = "types#[method]future-incoming-response.subscribe"
	fIRespStatus   = "types#[method]incoming-response.status"
	fIRespHeaders  = "types#[method]incoming-response.headers"
	fIRespConsume  = "types#[method]incoming-response.consume"
)

// request builds an outgoing-request to http://authority/path.
func (x *tester) request(method value.Variant, authority, path string, headers ...any) value.Handle {
	x.t.Helper()
	r := handle(x.call(fOReqNew, x.ok(fFromList, headers)))
	x.ok(fOReqMethod, r, method)
	x.ok(fOReqScheme, r, value.Some(value.Variant{Case: 0}))
	x.ok(fOReqAuthority, r, value.Some(authority))
	x.ok(fOReqPath, r, value.Some(path))
	return r
}

// await waits for a future-incoming-response and returns get's result.
func (x *tester) await(future value.Handle) value.Variant {
	x.t.Helper()
	x.h.mu.Lock()
	f := repObj(&x.h.futures, future.Rep)
	x.h.mu.Unlock()
	select {
	case <-f.call.done:
	case <-time.After(10 * time.Second):
		x.t.Fatal("no response in 10s")
	}
	got := x.call(fFutureGet, future).(value.Variant)
	if got.Case != 1 {
		x.t.Fatalf("get after the response = %v", got)
	}
	return got.Value.(value.Variant).Value.(value.Variant)
}

var (
	get  = value.Variant{Case: 0}
	post = value.Variant{Case: 2}
)

func TestOutgoing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream", "yes")
		w.Header().Set("Trailer", "X-Sum")
		w.WriteHeader(202)
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-From")+" "+string(b)+" "+r.Trailer.Get("X-Req-Trailer"))
		w.Header().Set("X-Sum", "42")
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	x := newTester(t, Config{AllowedHosts: []string{addr}})

	// A GET.
	r := x.request(get, addr, "/path?q=1", entry("X-From", "guest"))
	fut := handle(x.ok(fHandle, r, value.None()))
	resp := handle(x.await(fut).Value)
	if got := x.call(fFutureGet, fut); got != value.Some(value.Err(nil)) {
		t.Errorf("second get = %v", got)
	}
	if got := x.call(fIRespStatus, resp); got != uint16(202) {
		t.Errorf("status %v", got)
	}
	hdrs := x.call(fIRespHeaders, resp)
	if got := show(x.call(fGet, hdrs, "x-upstream")); got != "[yes]" {
		t.Errorf("x-upstream %s", got)
	}
	x.drop(handle(hdrs))
	body := handle(x.ok(fIRespConsume, resp))
	b, err := x.readBody(body)
	if err != nil || string(b) != "GET /path?q=1 guest  " {
		t.Errorf("body %q, %v", b, err)
	}
	ft := x.call(fBodyFinish, body)
	tr := x.call(fTrailersGet, ft).(value.Variant)
	if tr.Case != 1 {
		t.Fatalf("trailers not ready after the body: %v", tr)
	}
	trs := tr.Value.(value.Variant).Value.(value.Variant).Value.(value.Variant)
	if trs.Case != 1 || show(x.call(fGet, trs.Value, "x-sum")) != "[42]" {
		t.Errorf("trailers %v", trs)
	}
	x.drop(handle(trs.Value))
	x.drop(handle(ft))
	x.drop(resp)
	x.drop(fut)

	// A POST whose body is written partly before handle, partly after,
	// with trailers.
	r = x.request(post, addr, "/upload")
	ob := handle(x.ok(fOReqBody, r))
	x.err(fOReqBody, r)
	x.writeBody(ob, "first ")
	fut = handle(x.ok(fHandle, r, value.None()))
	x.writeBody(ob, strings.Repeat("z", 100<<10))
	x.ok(fOutFinish, ob, value.Some(x.ok(fFromList, []any{entry("X-Req-Trailer", "rt")})))
	resp = handle(x.await(fut).Value)
	body = handle(x.ok(fIRespConsume, resp))
	b, err = x.readBody(body)
	if want := "POST /upload  first " + strings.Repeat("z", 100<<10) + " rt"; err != nil || string(b) != want {
		t.Errorf("upload echo: %d bytes (%q...), %v", len(b), b[:min(len(b), 40)], err)
	}
	x.drop(body)
	x.drop(resp)
	x.drop(fut)

	// Hosts off the allow-list are denied before any connection.
	for _, a := range []string{"127.0.0.1:1", "example.com", "localhost" + addr[strings.LastIndex(addr, ":"):]} {
		r = x.request(get, a, "/")
		if got := x.err(fHandle, r, value.None()).(value.Variant); got.Case != ecHTTPRequestDenied {
			t.Errorf("request to %s: %s, want HTTP-request-denied", a, codeString(got))
		}
	}
	// A request without an authority is invalid.
	r = handle(x.call(fOReqNew, x.call(fNew)))
	if got := x.err(fHandle, r, value.None()).(value.Variant); got.Case != ecHTTPRequestURIInvalid {
		t.Errorf("no authority: %s", codeString(got))
	}
	// Setters validate.
	r = handle(x.call(fOReqNew, x.call(fNew)))
	x.err(fOReqPath, r, value.Some("/a b"))
	x.err(fOReqAuthority, r, value.Some("a/b"))
	x.err(fOReqMethod, r, value.Variant{Case: 9, Value: "BAD METHOD"})
	x.err(fOReqScheme, r, value.Some(value.Variant{Case: 2, Value: "1x"}))
	if got := x.call(fOReqGetPath, r); got != value.None() {
		t.Errorf("default path-with-query %v", got)
	}
	x.drop(r)
	// A content-length without a body.
	r = x.request(post, addr, "/", entry("Content-Length", "3"))
	if got := x.err(fHandle, r, value.None()).(value.Variant); got.Case != ecHTTPRequestBodySize {
		t.Errorf("content-length without body: %s", codeString(got))
	}
}

func TestOutgoingFailures(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	x := newTester(t, Config{AllowedHosts: []string{"127.0.0.1"}})

	r := x.request(get, closed, "/")
	fut := handle(x.ok(fHandle, r, value.None()))
	if got := x.await(fut); got.Case != 1 || got.Value.(value.Variant).Case != ecConnectionRefused {
		t.Errorf("closed port: %v", got)
	}
	x.drop(fut)

	// first-byte-timeout.
	r = x.request(get, slow.Listener.Addr().String(), "/")
	opts := x.call(fOptsNew)
	x.ok(fOptsFirstByte, opts, value.Some(uint64(50*time.Millisecond)))
	if got := x.call(fOptsGetFirst, opts); got != value.Some(uint64(50*time.Millisecond)) {
		t.Errorf("first-byte-timeout = %v", got)
	}
	start := time.Now()
	fut = handle(x.ok(fHandle, r, value.Some(opts)))
	got := x.await(fut)
	if got.Case != 1 || got.Value.(value.Variant).Case != ecHTTPResponseTimeout {
		t.Errorf("slow server: %v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	x.drop(fut)

	// Dropping a pending future cancels the request; Close ends the rest.
	r = x.request(get, slow.Listener.Addr().String(), "/")
	fut = handle(x.ok(fHandle, r, value.None()))
	if got := x.call(fFutureGet, fut); got != value.None() {
		t.Errorf("get of a pending response = %v", got)
	}
	x.drop(fut)
	r = x.request(get, slow.Listener.Addr().String(), "/")
	x.ok(fHandle, r, value.None())
}

// http-error-code finds the error-code behind a stream's io error.
func TestHTTPErrorCode(t *testing.T) {
	x := newTester(t, Config{})
	if got := x.call(fErrorCode, value.Handle{Type: x.h.rts.ioError, Rep: 12345}); got != value.None() {
		t.Errorf("unknown io error: %v", got)
	}
	wrapped := fmt.Errorf("read: %w", &codeError{code: newCode(ecConnectionTerminated, nil)})
	if got, ok := errorCodeOf(wrapped); !ok || got.Case != ecConnectionTerminated {
		t.Errorf("errorCodeOf = %v, %v", got, ok)
	}
	if _, ok := errorCodeOf(errors.New("plain")); ok {
		t.Error("a plain error has an error-code")
	}
}

// The case numbers are the ABI: each constant must name its WIT case.
func TestErrorCodeCases(t *testing.T) {
	for c, name := range map[int]string{
		ecDNSTimeout: "DNS-timeout", ecDNSError: "DNS-error", ecConnectionRefused: "connection-refused",
		ecTLSAlertReceived: "TLS-alert-received", ecHTTPRequestDenied: "HTTP-request-denied",
		ecHTTPRequestBodySize: "HTTP-request-body-size", ecHTTPRequestHeaderSize: "HTTP-request-header-size",
		ecHTTPRequestTrailerSize: "HTTP-request-trailer-size", ecHTTPResponseIncomplete: "HTTP-response-incomplete",
		ecHTTPResponseBodySize: "HTTP-response-body-size", ecHTTPResponseTimeout: "HTTP-response-timeout",
		ecHTTPProtocolError: "HTTP-protocol-error", ecLoopDetected: "loop-detected",
		ecConfigurationError: "configuration-error", ecInternalError: "internal-error",
		ecConnectionReadTimeout: "connection-read-timeout",
	} {
		if got := errorCodeT.Cases[c].Name; got != name {
			t.Errorf("case %d is %s, want %s", c, got, name)
		}
	}
	if n := len(errorCodeT.Cases); n != 39 {
		t.Errorf("error-code has %d cases, want 39", n)
	}
	if got := headerErrorT.Cases[heImmutable].Name; got != "immutable" {
		t.Errorf("header-error case 2 is %s", got)
	}
	if got := methodT.Cases[9].Name; got != "other" {
		t.Errorf("method case 9 is %s", got)
	}
}

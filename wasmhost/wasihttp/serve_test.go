package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// These tests play the guest by calling the host's functions directly;
// bodies are read and written below the wasi:io streams (whose functions
// belong to package wasi). The real component runs in e2e_test.go.

const (
	fReqMethod   = "types#[method]incoming-request.method"
	fReqPath     = "types#[method]incoming-request.path-with-query"
	fReqScheme   = "types#[method]incoming-request.scheme"
	fReqAuth     = "types#[method]incoming-request.authority"
	fReqHeaders  = "types#[method]incoming-request.headers"
	fReqConsume  = "types#[method]incoming-request.consume"
	fBodyStream  = "types#[method]incoming-body.stream"
	fBodyFinish  = "types#[static]incoming-body.finish"
	fTrailersGet = "types#[method]future-trailers.get"
	fTrailersSub = "types#[method]future-trailers.subscribe"
	fRespNew     = "types#[constructor]outgoing-response"
	fRespStatus  = "types#[method]outgoing-response.set-status-code"
	fRespBody    = "types#[method]outgoing-response.body"
	fOutWrite    = "types#[method]outgoing-body.write"
	fOutFinish   = "types#[static]outgoing-body.finish"
	fOutparamSet = "types#[static]response-outparam.set"
	fInfo        = "types#[method]response-outparam.send-informational"
	fErrorCode   = "types#http-error-code"
)

// readBody reads an incoming-body to its end, as the guest's stream would.
func (x *tester) readBody(body value.Handle) ([]byte, error) {
	x.t.Helper()
	x.h.mu.Lock()
	ib := repObj(&x.h.inBodies, body.Rep)
	x.h.mu.Unlock()
	if ib == nil {
		x.t.Fatalf("no incoming-body %d", body.Rep)
	}
	return io.ReadAll(ib.src)
}

// writeBody writes to an outgoing-body, as the guest's stream would.
func (x *tester) writeBody(body value.Handle, p string) error {
	x.t.Helper()
	x.h.mu.Lock()
	ob := repObj(&x.h.outBodies, body.Rep)
	x.h.mu.Unlock()
	if ob == nil {
		x.t.Fatalf("no outgoing-body %d", body.Rep)
	}
	_, err := bodyWriter{ob}.Write([]byte(p))
	return err
}

// response builds an outgoing-response with headers, status and its body.
func (x *tester) response(status int, headers ...any) (resp, body value.Handle) {
	x.t.Helper()
	hdrs := x.ok(fFromList, headers)
	resp = handle(x.call(fRespNew, hdrs))
	if status != 200 {
		x.ok(fRespStatus, resp, uint16(status))
	}
	return resp, handle(x.ok(fRespBody, resp))
}

func serve(x *tester, r *http.Request, guest func(req, out value.Handle) error) (*httptest.ResponseRecorder, error) {
	w := httptest.NewRecorder()
	err := x.h.ServeWith(context.Background(), w, r, func(_ context.Context, req, out value.Handle) error {
		return guest(req, out)
	})
	return w, err
}

func TestServe(t *testing.T) {
	x := newTester(t, Config{})
	r := httptest.NewRequest("POST", "http://example.com:8080/a/b?c=1&d=%20", strings.NewReader("request body"))
	r.Header.Set("X-Test", "yes")
	r.Header.Set("Connection", "keep-alive")
	r.Header.Add("X-Multi", "1")
	r.Header.Add("X-Multi", "2")
	w, err := serve(x, r, func(req, out value.Handle) error {
		if got := x.call(fReqMethod, req); got != (value.Variant{Case: 2}) {
			t.Errorf("method = %v, want post", got)
		}
		if got := x.call(fReqPath, req); got != value.Some("/a/b?c=1&d=%20") {
			t.Errorf("path-with-query = %v", got)
		}
		if got := x.call(fReqScheme, req); got != value.Some(value.Variant{Case: 0}) {
			t.Errorf("scheme = %v", got)
		}
		if got := x.call(fReqAuth, req); got != value.Some("example.com:8080") {
			t.Errorf("authority = %v", got)
		}
		hdrs := x.call(fReqHeaders, req)
		want := "[[host example.com:8080] [x-multi 1] [x-multi 2] [x-test yes]]"
		if got := show(x.call(fEntries, hdrs)); got != want {
			t.Errorf("headers = %s, want %s", got, want)
		}
		if got := x.err(fAppend, hdrs, "x-more", []byte("1")).(value.Variant); got.Case != heImmutable {
			t.Errorf("request headers are mutable: %v", got)
		}
		x.drop(handle(hdrs))
		body := handle(x.ok(fReqConsume, req))
		x.err(fReqConsume, req)
		x.ok(fBodyStream, body)
		x.err(fBodyStream, body)
		if b, err := x.readBody(body); err != nil || string(b) != "request body" {
			t.Errorf("body = %q, %v", b, err)
		}
		ft := x.call(fBodyFinish, body)
		if got := x.call(fTrailersGet, ft); got != value.Some(value.Ok(value.Ok(value.None()))) {
			t.Errorf("trailers = %v", got)
		}
		if got := x.call(fTrailersGet, ft); got != value.Some(value.Err(nil)) {
			t.Errorf("second trailers get = %v", got)
		}
		x.drop(handle(ft))
		x.drop(req)

		resp, rb := x.response(201, entry("Content-Type", "text/plain"), entry("X-Out", "1"), entry("x-out", "2"))
		if err := x.writeBody(rb, "before set, "); err != nil {
			t.Error(err)
		}
		x.call(fOutparamSet, out, value.Ok(resp))
		if err := x.writeBody(rb, "after set"); err != nil {
			t.Error(err)
		}
		tr := x.ok(fFromList, []any{entry("X-Trailer", "t")})
		x.ok(fOutFinish, rb, value.Some(tr))
		return nil
	})
	if err != nil {
		t.Fatalf("ServeWith: %v", err)
	}
	res := w.Result()
	if res.StatusCode != 201 || res.Header.Get("Content-Type") != "text/plain" || strings.Join(res.Header.Values("X-Out"), ",") != "1,2" {
		t.Errorf("response %d %v", res.StatusCode, res.Header)
	}
	if got := w.Body.String(); got != "before set, after set" {
		t.Errorf("body %q", got)
	}
	if got := res.Trailer.Get("X-Trailer"); got != "t" {
		t.Errorf("trailer %q (%v)", got, res.Trailer)
	}
}

func TestServeErrors(t *testing.T) {
	x := newTester(t, Config{MaxRequestBody: 10, MaxHeaderBytes: 200})
	get := func() *http.Request { return httptest.NewRequest("GET", "/", nil) }
	never := func(req, out value.Handle) error {
		t.Error("the guest was called")
		return nil
	}

	// An error-code response becomes a status.
	for _, c := range []struct {
		code value.Variant
		want int
	}{
		{newCode(ecHTTPRequestDenied, nil), 403},
		{newCode(ecConnectionRefused, nil), 502},
		{newCode(ecHTTPResponseTimeout, nil), 504},
		{internalError("oops"), 500},
	} {
		w, err := serve(x, get(), func(req, out value.Handle) error {
			x.call(fOutparamSet, out, value.Err(c.code))
			x.drop(req)
			return nil
		})
		if err != nil || w.Code != c.want {
			t.Errorf("set(err(%s)): %d, %v; want %d", codeString(c.code), w.Code, err, c.want)
		}
	}

	// No response at all.
	w, err := serve(x, get(), func(req, out value.Handle) error { return nil })
	if err == nil || w.Code != 500 {
		t.Errorf("no response: %d, %v", w.Code, err)
	}
	// A trap before the response.
	boom := errors.New("trap")
	if w, err := serve(x, get(), func(req, out value.Handle) error { return boom }); !errors.Is(err, boom) || w.Code != 500 {
		t.Errorf("trap: %d, %v", w.Code, err)
	}

	// A body dropped unfinished, or short of its Content-Length, is
	// incomplete.
	_, err = serve(x, get(), func(req, out value.Handle) error {
		resp, rb := x.response(200)
		x.call(fOutparamSet, out, value.Ok(resp))
		x.writeBody(rb, "part")
		x.drop(rb)
		return nil
	})
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("dropped body: %v", err)
	}
	_, err = serve(x, get(), func(req, out value.Handle) error {
		resp, rb := x.response(200, entry("Content-Length", "10"))
		x.call(fOutparamSet, out, value.Ok(resp))
		x.writeBody(rb, "part")
		got := x.err(fOutFinish, rb, value.None()).(value.Variant)
		if got.Case != ecHTTPResponseBodySize {
			t.Errorf("short body finish = %s", codeString(got))
		}
		return nil
	})
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("short body: %v", err)
	}
	_, err = serve(x, get(), func(req, out value.Handle) error {
		resp, rb := x.response(200, entry("Content-Length", "3"))
		x.call(fOutparamSet, out, value.Ok(resp))
		var ce *codeError
		if err := x.writeBody(rb, "four"); !errors.As(err, &ce) || ce.code.Case != ecHTTPResponseBodySize {
			t.Errorf("write past Content-Length: %v", err)
		}
		x.writeBody(rb, "abc")
		x.ok(fOutFinish, rb, value.None())
		return nil
	})
	if err != nil {
		t.Errorf("exact body: %v", err)
	}

	// Limits: a declared body over the limit and oversized headers are
	// refused before the guest runs.
	big := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11)))
	if w, _ := serve(x, big, never); w.Code != 413 {
		t.Errorf("declared big body: %d", w.Code)
	}
	hdr := get()
	hdr.Header.Set("X-Big", strings.Repeat("h", 300))
	if w, _ := serve(x, hdr, never); w.Code != 431 {
		t.Errorf("big header: %d", w.Code)
	}
	// A streamed body over the limit fails the guest's read with
	// HTTP-request-body-size, and the answer is 413 whatever it sets.
	streamed := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("y", 20))))
	streamed.ContentLength = -1
	w, err = serve(x, streamed, func(req, out value.Handle) error {
		body := handle(x.ok(fReqConsume, req))
		_, rerr := x.readBody(body)
		var ce *codeError
		if !errors.As(rerr, &ce) || ce.code.Case != ecHTTPRequestBodySize {
			t.Errorf("reading a big body: %v", rerr)
		}
		x.drop(body)
		resp, rb := x.response(200)
		x.call(fOutparamSet, out, value.Ok(resp))
		x.writeBody(rb, "ignored")
		x.ok(fOutFinish, rb, value.None())
		return nil
	})
	if err != nil || w.Code != 413 || strings.Contains(w.Body.String(), "ignored") {
		t.Errorf("streamed big body: %d %q, %v", w.Code, w.Body.String(), err)
	}
}

func TestInformational(t *testing.T) {
	x := newTester(t, Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := x.h.ServeWith(r.Context(), w, r, func(_ context.Context, req, out value.Handle) error {
			if got := x.err(fInfo, out, uint16(200), x.call(fNew)).(value.Variant); got.Case != ecHTTPProtocolError {
				t.Errorf("send-informational(200) = %s", codeString(got))
			}
			x.ok(fInfo, out, uint16(103), x.ok(fFromList, []any{entry("Link", "</a.css>; rel=preload")}))
			resp, rb := x.response(200)
			x.call(fOutparamSet, out, value.Ok(resp))
			x.writeBody(rb, "final")
			x.ok(fOutFinish, rb, value.None())
			x.drop(req)
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	var early []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			early = append(early, fmt.Sprint(code, " ", h.Get("Link")))
			return nil
		},
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "final" || res.Header.Get("Link") != "" {
		t.Errorf("%d %q %v", res.StatusCode, b, res.Header)
	}
	if fmt.Sprint(early) != "[103 </a.css>; rel=preload]" {
		t.Errorf("1xx responses: %v", early)
	}
	srv.Client().CloseIdleConnections()
}

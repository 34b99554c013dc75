package main

import (
	"strings"
	"testing"
	"time"
)

// memStore is an in-memory Store, for the HTTP logic on the host (the box's
// real store is the blob driver, exercised end to end by the e2e tests in
// cmd/wbox).
type memStore map[string]string // path -> content; "dir/" entries are directories

var mod = time.Date(2026, 11, 25, 1, 2, 3, 0, time.UTC)

func (s memStore) Stat(p string) (Meta, bool, error) {
	if strings.HasPrefix(p, "secret") {
		return Meta{}, false, errInvalidPath
	}
	if c, ok := s[p]; ok {
		return Meta{Size: uint64(len(c)), ModifiedNs: uint64(mod.UnixNano()), ETag: "e" + p}, true, nil
	}
	if _, ok := s[p+"/"]; ok || p == "" {
		return Meta{IsDir: true, ModifiedNs: uint64(mod.UnixNano()), ETag: "d"}, true, nil
	}
	return Meta{}, false, nil
}

func (s memStore) List(p string) ([]string, error) {
	return []string{"a.txt", "sub/", "<x>.html"}, nil
}

var site = memStore{"index.html": "<h1>home</h1>", "a.txt": "0123456789", "sub/": "", "sub/page.css": "p{}", "docs/": ""}

func get(t *testing.T, cfg Config, method, target string, hdr ...string) Response {
	t.Helper()
	h := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	return Serve(site, cfg, Request{Method: method, Target: target, Header: func(n string) string { return h[n] }})
}

func TestServe(t *testing.T) {
	cfg := Config{Index: "index.html", CacheControl: "public, max-age=60"}
	etag := `"ea.txt"`
	lm := mod.Format(timeFormat)
	for _, c := range []struct {
		name, method, target string
		hdr                  []string
		status               int
		file                 string
		off, n               uint64
		want                 map[string]string
	}{
		{"file", "GET", "/a.txt", nil, 200, "a.txt", 0, 10, map[string]string{"content-type": "text/plain; charset=utf-8", "etag": etag, "last-modified": lm, "content-length": "10", "cache-control": "public, max-age=60", "accept-ranges": "bytes"}},
		{"query ignored", "GET", "/a.txt?v=2", nil, 200, "a.txt", 0, 10, nil},
		{"index", "GET", "/", nil, 200, "index.html", 0, 13, map[string]string{"content-type": "text/html; charset=utf-8"}},
		{"css", "GET", "/sub/page.css", nil, 200, "sub/page.css", 0, 3, map[string]string{"content-type": "text/css; charset=utf-8"}},
		{"head", "HEAD", "/a.txt", nil, 200, "", 0, 0, map[string]string{"content-length": "10", "etag": etag}},
		{"etag 304", "GET", "/a.txt", []string{"if-none-match", `"x", ` + etag}, 304, "", 0, 0, map[string]string{"etag": etag}},
		{"weak etag 304", "GET", "/a.txt", []string{"if-none-match", "W/" + etag}, 304, "", 0, 0, nil},
		{"etag changed", "GET", "/a.txt", []string{"if-none-match", `"old"`, "if-modified-since", lm}, 200, "a.txt", 0, 10, nil},
		{"ims 304", "GET", "/a.txt", []string{"if-modified-since", lm}, 304, "", 0, 0, nil},
		{"ims older", "GET", "/a.txt", []string{"if-modified-since", mod.Add(-time.Hour).Format(timeFormat)}, 200, "a.txt", 0, 10, nil},
		{"range", "GET", "/a.txt", []string{"range", "bytes=2-5"}, 206, "a.txt", 2, 4, map[string]string{"content-range": "bytes 2-5/10", "content-length": "4"}},
		{"open range", "GET", "/a.txt", []string{"range", "bytes=7-"}, 206, "a.txt", 7, 3, map[string]string{"content-range": "bytes 7-9/10"}},
		{"suffix range", "GET", "/a.txt", []string{"range", "bytes=-4"}, 206, "a.txt", 6, 4, nil},
		{"range past end clipped", "GET", "/a.txt", []string{"range", "bytes=8-100"}, 206, "a.txt", 8, 2, nil},
		{"416", "GET", "/a.txt", []string{"range", "bytes=10-"}, 416, "", 0, 0, map[string]string{"content-range": "bytes */10"}},
		{"multi range: whole", "GET", "/a.txt", []string{"range", "bytes=0-1,4-5"}, 200, "a.txt", 0, 10, nil},
		{"bad range: whole", "GET", "/a.txt", []string{"range", "bytes=5-2"}, 200, "a.txt", 0, 10, nil},
		{"if-range stale", "GET", "/a.txt", []string{"range", "bytes=2-5", "if-range", `"old"`}, 200, "a.txt", 0, 10, nil},
		{"if-range ok", "GET", "/a.txt", []string{"range", "bytes=2-5", "if-range", etag}, 206, "a.txt", 2, 4, nil},
		{"404", "GET", "/nope.html", nil, 404, "", 0, 0, nil},
		{"dir without index", "GET", "/docs/", nil, 404, "", 0, 0, nil},
		{"dir redirect", "GET", "/sub?x=1", nil, 301, "", 0, 0, map[string]string{"location": "/sub/?x=1"}},
		{"405", "POST", "/a.txt", nil, 405, "", 0, 0, map[string]string{"allow": "GET, HEAD"}},
		{"traversal", "GET", "/../../a.txt", nil, 200, "a.txt", 0, 10, nil},
		{"encoded traversal", "GET", "/sub/%2e%2e/%2e%2e/a.txt", nil, 200, "a.txt", 0, 10, nil},
		{"traversal out", "GET", "/../../etc/passwd", nil, 404, "", 0, 0, nil},
		{"store refuses", "GET", "/secret", nil, 404, "", 0, 0, nil},
		{"backslash", "GET", "/..\\a.txt", nil, 400, "", 0, 0, nil},
		{"nul", "GET", "/a.txt%00", nil, 400, "", 0, 0, nil},
		{"bad escape", "GET", "/%zz", nil, 400, "", 0, 0, nil},
		{"dir without index 2", "GET", "/sub/", nil, 404, "", 0, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := get(t, cfg, c.method, c.target, c.hdr...)
			if r.Status != c.status || r.File != c.file || (c.file != "" && (r.Offset != c.off || r.Length != c.n)) {
				t.Fatalf("%s %s = %d file %q [%d+%d], want %d %q [%d+%d]", c.method, c.target, r.Status, r.File, r.Offset, r.Length, c.status, c.file, c.off, c.n)
			}
			for k, v := range c.want {
				if got := r.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestListing(t *testing.T) {
	r := get(t, Config{Listing: true}, "GET", "/docs/")
	if r.Status != 200 || !strings.Contains(r.Body, `<a href="a.txt">a.txt</a>`) || !strings.Contains(r.Body, `<a href="sub/">sub/</a>`) || !strings.Contains(r.Body, "&lt;x&gt;.html") || strings.Contains(r.Body, "<x>") {
		t.Fatalf("listing = %d %s", r.Status, r.Body)
	}
	if r := get(t, Config{}, "GET", "/docs/"); r.Status != 404 {
		t.Fatalf("listing without config = %d", r.Status)
	}
}

func TestContentTypes(t *testing.T) {
	for p, want := range map[string]string{"a.JS": "text/javascript; charset=utf-8", "x.svg": "image/svg+xml", "f.woff2": "font/woff2", "noext": "application/octet-stream", "a.json": "application/json"} {
		if got := contentType(p); got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
}

func FuzzServe(f *testing.F) {
	for _, s := range []string{"/a.txt", "/../x", "/%2e%2e/", "/sub", "/a.txt?x", "//a.txt"} {
		f.Add(s, "bytes=0-1")
	}
	f.Fuzz(func(t *testing.T, target, rng string) {
		r := Serve(site, Config{Index: "index.html", Listing: true}, Request{Method: "GET", Target: target, Header: func(n string) string {
			if n == "range" {
				return rng
			}
			return ""
		}})
		if r.File != "" {
			if _, ok := site[r.File]; !ok || r.Offset+r.Length > uint64(len(site[r.File])) {
				t.Fatalf("%q %q: serves %q [%d+%d]", target, rng, r.File, r.Offset, r.Length)
			}
		}
	})
}

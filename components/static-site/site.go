package main

import (
	"errors"
	"html"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// ChunkSize is how much of a file one blob read fetches and one body write
// sends: large files are streamed, never held whole.
const ChunkSize = 64 << 10

// Meta is what the blob store knows about a path (wbox:blob's meta).
type Meta struct {
	Size       uint64
	ModifiedNs uint64
	ETag       string
	IsDir      bool
}

// errInvalidPath is the store refusing a path (wbox:blob's invalid-path:
// a link out of the store, a reserved name): served as 404.
var errInvalidPath = errors.New("invalid path")

// Store is the part of wbox:blob/store the site reads.
type Store interface {
	Stat(p string) (Meta, bool, error)
	List(p string) ([]string, error)
}

// Config is the box's configuration (wasi:config).
type Config struct {
	// Index is the file served for a directory ("index.html").
	Index string
	// Listing lists a directory that has no index (else 404).
	Listing bool
	// CacheControl is the Cache-Control header of files ("" for none).
	CacheControl string
}

// Request is what the site needs of an HTTP request.
type Request struct {
	Method string
	// Target is the path with its query, as sent.
	Target string
	// Header returns the first value of a request header ("" if none).
	Header func(name string) string
}

// Response is the site's answer: status, headers and either a small body
// (Body) or a range of a file of the store (File, Offset, Length) to be
// streamed in ChunkSize reads. HEAD answers carry the headers only.
type Response struct {
	Status  int
	Headers [][2]string
	Body    string
	File    string
	ETag    string // of File: the reads fail if it is replaced meanwhile
	Offset  uint64
	Length  uint64
}

func (r *Response) set(name, value string) { r.Headers = append(r.Headers, [2]string{name, value}) }

// Get returns the value of header name ("" if none), for tests.
func (r *Response) Get(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

func textResponse(status int, msg string) Response {
	r := Response{Status: status, Body: msg + "\n"}
	r.set("content-type", "text/plain; charset=utf-8")
	r.set("content-length", strconv.Itoa(len(r.Body)))
	return r
}

// Serve answers one request from the store.
func Serve(s Store, cfg Config, req Request) Response {
	r := serve(s, cfg, req)
	if req.Method == "HEAD" {
		r.Body, r.File, r.Length = "", "", 0
	}
	return r
}

func serve(s Store, cfg Config, req Request) Response {
	if req.Method != "GET" && req.Method != "HEAD" {
		r := textResponse(405, "405 method not allowed")
		r.set("allow", "GET, HEAD")
		return r
	}
	urlPath, _, _ := strings.Cut(req.Target, "?")
	clean, ok := cleanPath(urlPath)
	if !ok {
		return textResponse(400, "400 bad request: malformed path")
	}
	p := strings.TrimPrefix(clean, "/")
	m, found, err := s.Stat(p)
	switch {
	case errors.Is(err, errInvalidPath):
		return textResponse(404, "404 not found")
	case err != nil:
		return textResponse(500, "500 internal error: "+err.Error())
	case !found:
		return textResponse(404, "404 not found")
	}
	if m.IsDir {
		if !strings.HasSuffix(urlPath, "/") {
			// Relative links in the directory's index need the slash.
			r := textResponse(301, "301 moved permanently")
			target := clean
			if target != "/" {
				target += "/"
			}
			if _, q, hasQ := strings.Cut(req.Target, "?"); hasQ {
				target += "?" + q
			}
			r.set("location", target)
			return r
		}
		if cfg.Index != "" {
			ip := path.Join(p, cfg.Index)
			if im, ok, err := s.Stat(ip); err == nil && ok && !im.IsDir {
				return serveFile(cfg, req, ip, im)
			}
		}
		if !cfg.Listing {
			return textResponse(404, "404 not found")
		}
		return listing(s, clean, p)
	}
	return serveFile(cfg, req, p, m)
}

// cleanPath decodes a request path and makes it absolute and clean: no
// ".." can climb above the root. A path with a NUL or backslash, or a
// malformed escape, is refused.
func cleanPath(raw string) (string, bool) {
	if !strings.HasPrefix(raw, "/") {
		return "", false
	}
	dec, err := url.PathUnescape(raw)
	if err != nil || strings.ContainsAny(dec, "\x00\\") {
		return "", false
	}
	return path.Clean(dec), true
}

func serveFile(cfg Config, req Request, p string, m Meta) Response {
	etag := `"` + m.ETag + `"`
	mod := time.Unix(0, int64(m.ModifiedNs)).UTC().Truncate(time.Second)
	var r Response
	r.set("etag", etag)
	r.set("last-modified", mod.Format(timeFormat))
	if cfg.CacheControl != "" {
		r.set("cache-control", cfg.CacheControl)
	}
	if notModified(req, etag, mod) {
		r.Status = 304
		return r
	}
	r.set("content-type", contentType(p))
	r.set("accept-ranges", "bytes")
	r.set("x-content-type-options", "nosniff")
	r.File, r.ETag, r.Offset, r.Length, r.Status = p, m.ETag, 0, m.Size, 200
	rng := req.Header("range")
	if rng == "" || !ifRange(req.Header("if-range"), etag, mod) {
		r.set("content-length", strconv.FormatUint(m.Size, 10))
		return r
	}
	start, end, ok, satisfiable := parseRange(rng, m.Size)
	switch {
	case !ok: // malformed or several ranges: the whole file
		r.set("content-length", strconv.FormatUint(m.Size, 10))
	case !satisfiable:
		r.File, r.Length, r.Status = "", 0, 416
		r.Body = "416 range not satisfiable\n"
		r.set("content-range", "bytes */"+strconv.FormatUint(m.Size, 10))
		r.set("content-length", strconv.Itoa(len(r.Body)))
	default:
		r.Status, r.Offset, r.Length = 206, start, end-start+1
		r.set("content-range", "bytes "+strconv.FormatUint(start, 10)+"-"+strconv.FormatUint(end, 10)+"/"+strconv.FormatUint(m.Size, 10))
		r.set("content-length", strconv.FormatUint(r.Length, 10))
	}
	return r
}

// notModified evaluates If-None-Match, else If-Modified-Since (RFC 9110
// 13.2.2).
func notModified(req Request, etag string, mod time.Time) bool {
	if inm := req.Header("if-none-match"); inm != "" {
		return etagListMatches(inm, etag)
	}
	if ims := req.Header("if-modified-since"); ims != "" {
		if t, ok := parseHTTPTime(ims); ok {
			return !mod.After(t)
		}
	}
	return false
}

// etagListMatches reports whether a comma-separated If-None-Match list
// holds etag (weak comparison) or is "*".
func etagListMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || strings.TrimPrefix(e, "W/") == etag {
			return true
		}
	}
	return false
}

// ifRange reports whether a Range applies given If-Range (absent, a strong
// ETag that matches, or a date no earlier than the modification).
func ifRange(v, etag string, mod time.Time) bool {
	switch {
	case v == "":
		return true
	case strings.HasPrefix(v, `"`):
		return v == etag
	case strings.HasPrefix(v, "W/"):
		return false
	}
	t, ok := parseHTTPTime(v)
	return ok && !mod.After(t)
}

// parseRange parses a single "bytes=" range against size. ok is false when
// the header is malformed or asks for several ranges (then the whole file
// is sent); satisfiable is false when the range starts past the end.
func parseRange(v string, size uint64) (start, end uint64, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, false
	}
	if first == "" { // suffix: the last N bytes
		n, err := strconv.ParseUint(last, 10, 64)
		if err != nil {
			return 0, 0, false, false
		}
		if n == 0 || size == 0 {
			return 0, 0, true, false
		}
		n = min(n, size)
		return size - n, size - 1, true, true
	}
	s, err := strconv.ParseUint(first, 10, 64)
	if err != nil {
		return 0, 0, false, false
	}
	e := size - 1
	if last != "" {
		if e, err = strconv.ParseUint(last, 10, 64); err != nil || e < s {
			return 0, 0, false, false
		}
		e = min(e, size-1)
	}
	if s >= size {
		return 0, 0, true, false
	}
	return s, e, true, true
}

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// parseHTTPTime parses the three HTTP date formats (RFC 9110 5.6.7).
func parseHTTPTime(v string) (time.Time, bool) {
	for _, f := range []string{timeFormat, "Monday, 02-Jan-06 15:04:05 GMT", "Mon Jan _2 15:04:05 2006"} {
		if t, err := time.Parse(f, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// listing is the HTML index of directory p (clean is its URL path).
func listing(s Store, clean, p string) Response {
	names, err := s.List(p)
	if err != nil {
		return textResponse(500, "500 internal error: "+err.Error())
	}
	title := html.EscapeString(clean)
	var b strings.Builder
	b.WriteString("<!doctype html>\n<meta charset=utf-8>\n<title>Index of " + title + "</title>\n<h1>Index of " + title + "</h1>\n<ul>\n")
	if clean != "/" {
		b.WriteString("<li><a href=\"../\">../</a></li>\n")
	}
	for _, n := range names {
		href := (&url.URL{Path: n}).EscapedPath()
		if strings.HasPrefix(n, ".") || strings.Contains(strings.TrimSuffix(n, "/"), ":") {
			href = "./" + href // never read as a scheme
		}
		b.WriteString("<li><a href=\"" + html.EscapeString(href) + "\">" + html.EscapeString(n) + "</a></li>\n")
	}
	b.WriteString("</ul>\n")
	r := Response{Status: 200, Body: b.String()}
	r.set("content-type", "text/html; charset=utf-8")
	r.set("content-length", strconv.Itoa(len(r.Body)))
	return r
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
	".map": "application/json", ".txt": "text/plain; charset=utf-8",
	".md": "text/markdown; charset=utf-8", ".csv": "text/csv; charset=utf-8",
	".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
	".webmanifest": "application/manifest+json", ".yaml": "application/yaml", ".yml": "application/yaml",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".pdf": "application/pdf", ".wasm": "application/wasm", ".zip": "application/zip",
	".gz": "application/gzip", ".tar": "application/x-tar",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
	".wav": "audio/wav",
}

// contentType is the media type of a file by its extension.
func contentType(p string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(p))]; ok {
		return t
	}
	return "application/octet-stream"
}

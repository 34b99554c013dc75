package wasihttp

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

func entry(name, v string) any { return []any{name, []byte(v)} }

func vals(vs ...string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = []byte(v)
	}
	return out
}

func show(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case []any:
		s := "["
		for i, e := range v {
			if i > 0 {
				s += " "
			}
			s += show(e)
		}
		return s + "]"
	}
	return fmt.Sprint(v)
}

func TestFields(t *testing.T) {
	x := newTester(t, Config{})
	f := x.call(fNew)
	if got := show(x.call(fEntries, f)); got != "[]" {
		t.Errorf("new fields: %s", got)
	}
	x.ok(fAppend, f, "Content-Type", []byte("text/plain"))
	x.ok(fAppend, f, "X-Multi", []byte("1"))
	x.ok(fAppend, f, "x-multi", []byte("2"))
	x.ok(fAppend, f, "Empty", []byte(""))

	// Names compare case-insensitively; entries keep their casing and order.
	if got := show(x.call(fGet, f, "x-MULTI")); got != "[1 2]" {
		t.Errorf("get = %s", got)
	}
	if got := show(x.call(fGet, f, "empty")); got != "[]" {
		t.Errorf("get of an empty value = %q, want one empty value", got)
	}
	if n := len(x.call(fGet, f, "empty").([]any)); n != 1 {
		t.Errorf("get of an empty value has %d values, want 1", n)
	}
	if got := x.call(fGet, f, "absent").([]any); len(got) != 0 {
		t.Errorf("get of an absent name = %v", got)
	}
	if got := x.call(fGet, f, "bad name").([]any); len(got) != 0 {
		t.Errorf("get of an invalid name = %v", got)
	}
	if x.call(fHas, f, "CONTENT-type") != true || x.call(fHas, f, "nope") != false || x.call(fHas, f, "bad name") != false {
		t.Error("has is wrong")
	}
	want := "[[Content-Type text/plain] [X-Multi 1] [x-multi 2] [Empty ]]"
	if got := show(x.call(fEntries, f)); got != want {
		t.Errorf("entries = %s, want %s", got, want)
	}

	// set replaces every value of the name where its first one was.
	x.ok(fSet, f, "x-multi", vals("a", "b", "c"))
	want = "[[Content-Type text/plain] [x-multi a] [x-multi b] [x-multi c] [Empty ]]"
	if got := show(x.call(fEntries, f)); got != want {
		t.Errorf("after set: %s, want %s", got, want)
	}
	x.ok(fSet, f, "New", vals("n"))
	x.ok(fDelete, f, "EMPTY")
	x.ok(fDelete, f, "never-there")
	want = "[[Content-Type text/plain] [x-multi a] [x-multi b] [x-multi c] [New n]]"
	if got := show(x.call(fEntries, f)); got != want {
		t.Errorf("after set and delete: %s, want %s", got, want)
	}
	x.ok(fSet, f, "x-multi", vals())
	if x.call(fHas, f, "x-multi") != false {
		t.Error("set to no values leaves the name")
	}

	// clone is deep and mutable.
	c := x.call(fClone, f)
	x.ok(fAppend, c, "Only-In-Clone", []byte("1"))
	if x.call(fHas, f, "only-in-clone") != false {
		t.Error("clone shares its entries")
	}
	if got := show(x.call(fEntries, c)); got != "[[Content-Type text/plain] [New n] [Only-In-Clone 1]]" {
		t.Errorf("clone entries = %s", got)
	}

	// Syntax and forbidden fields: header-error invalid-syntax (0),
	// forbidden (1).
	for _, c := range []struct {
		name, value string
		want        uint32
	}{
		{"", "v", heInvalidSyntax},
		{"bad name", "v", heInvalidSyntax},
		{"bad:name", "v", heInvalidSyntax},
		{"naïve", "v", heInvalidSyntax},
		{"ok", "line\r\nbreak", heInvalidSyntax},
		{"ok", "nul\x00", heInvalidSyntax},
		{"ok", " leading", heInvalidSyntax},
		{"Connection", "close", heForbidden},
		{"transfer-encoding", "chunked", heForbidden},
		{"Host", "example.com", heForbidden},
		{"upgrade", "h2c", heForbidden},
	} {
		for _, fname := range []string{fAppend, fSet} {
			var arg any = []byte(c.value)
			if fname == fSet {
				arg = vals(c.value)
			}
			got := x.err(fname, f, c.name, arg).(value.Variant)
			if got.Case != c.want {
				t.Errorf("%s(%q, %q) = header-error %d, want %d", fname, c.name, c.value, got.Case, c.want)
			}
		}
	}
	if got := x.err(fDelete, f, "bad name").(value.Variant); got.Case != heInvalidSyntax {
		t.Errorf("delete(bad name) = %v", got)
	}
	// Tabs, obs-text and inner spaces are fine in values.
	x.ok(fAppend, f, "X-Ok", []byte("a\tb c\xff"))

	// from-list validates every entry.
	fl := x.ok(fFromList, []any{entry("A", "1"), entry("b", "2"), entry("a", "3")})
	if got := show(x.call(fGet, fl, "a")); got != "[1 3]" {
		t.Errorf("from-list get = %s", got)
	}
	if got := x.err(fFromList, []any{entry("A", "1"), entry("keep-alive", "x")}).(value.Variant); got.Case != heForbidden {
		t.Errorf("from-list with a forbidden field = %v", got)
	}
	if got := x.err(fFromList, []any{entry("A b", "1")}).(value.Variant); got.Case != heInvalidSyntax {
		t.Errorf("from-list with a bad name = %v", got)
	}
	for _, h := range []any{f, c, fl} {
		x.drop(handle(h))
	}
	if _, err := x.try(t.Context(), fGet, f, "a"); err == nil {
		t.Error("get on a dropped fields succeeded")
	}
}

// Fields the host hands out as children are immutable.
func TestImmutableFields(t *testing.T) {
	x := newTester(t, Config{})
	hdrs := x.call(fNew)
	x.ok(fAppend, hdrs, "X-A", []byte("1"))
	resp := x.call("types#[constructor]outgoing-response", hdrs)
	// The guest's handle moved into the response.
	if _, err := x.try(t.Context(), fGet, hdrs, "x-a"); err == nil {
		t.Error("the fields handle survived its move into the response")
	}
	child := x.call("types#[method]outgoing-response.headers", resp)
	if got := show(x.call(fGet, child, "x-a")); got != "[1]" {
		t.Errorf("response headers: %s", got)
	}
	for _, c := range []struct {
		fn   string
		args []any
	}{
		{fAppend, []any{"x-b", []byte("2")}},
		{fSet, []any{"x-a", vals("3")}},
		{fDelete, []any{"x-a"}},
	} {
		got := x.err(c.fn, append([]any{child}, c.args...)...).(value.Variant)
		if got.Case != heImmutable {
			t.Errorf("%s on immutable fields = %v, want immutable", c.fn, got)
		}
	}
	// A clone of immutable fields is mutable again.
	cl := x.call(fClone, child)
	x.ok(fAppend, cl, "x-b", []byte("2"))
	x.drop(handle(cl))
	x.drop(handle(child))
	x.drop(handle(resp))
}

func TestFromHeader(t *testing.T) {
	l := fromHeader(http.Header{
		"Content-Type": {"text/plain"},
		"Connection":   {"keep-alive"},
		"X-Multi":      {"1", "2"},
		"Te":           {"trailers"},
	})
	want := "[[content-type text/plain] [x-multi 1] [x-multi 2]]"
	if got := show(l.list()); got != want {
		t.Errorf("fromHeader = %s, want %s", got, want)
	}
	if got := contentLength(&fieldList{entries: []field{{"Content-Length", []byte("42")}}}); got != 42 {
		t.Errorf("contentLength = %d", got)
	}
	for _, v := range []string{"", "-1", "4x", "1 2"} {
		if got := contentLength(&fieldList{entries: []field{{"content-length", []byte(v)}}}); got != -1 {
			t.Errorf("contentLength(%q) = %d", v, got)
		}
	}
}

func TestAllowed(t *testing.T) {
	h := New(nil, Config{AllowedHosts: []string{"example.com", "127.0.0.1:8080", "*.wbox.dev", "[::1]:9"}})
	defer h.Close()
	for _, c := range []struct {
		authority string
		want      bool
	}{
		{"example.com", true},
		{"EXAMPLE.com:443", true},
		{"example.com.", true},
		{"www.example.com", false},
		{"127.0.0.1:8080", true},
		{"127.0.0.1:8081", false},
		{"127.0.0.1", false},
		{"api.wbox.dev", true},
		{"a.b.wbox.dev:8443", true},
		{"wbox.dev", false},
		{"evilwbox.dev", false},
		{"[::1]:9", true},
		{"[::1]:10", false},
		{"localhost", false},
	} {
		if got := h.allowed(c.authority); got != c.want {
			t.Errorf("allowed(%q) = %v, want %v", c.authority, got, c.want)
		}
	}
	none := New(nil, Config{})
	defer none.Close()
	if none.allowed("example.com") {
		t.Error("an empty allow-list allows")
	}
	all := New(nil, Config{AllowedHosts: []string{"*"}})
	defer all.Close()
	if !all.allowed("anything:1") {
		t.Error("* does not allow")
	}
}

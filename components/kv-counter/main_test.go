package main

import (
	"encoding/json"
	"testing"
)

// Plain `go test` checks the box's logic on the host; the counting itself
// (wasi:keyvalue) runs in examples/kv-counter's end-to-end test.
func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		target, accept, path string
		asJSON               bool
	}{
		{"/", "", "/", false},
		{"", "", "/", false},
		{"/a/b?x=1", "", "/a/b", false},
		{"/a?x=1&format=json", "", "/a", true},
		{"/a", "text/html, application/json;q=0.9", "/a", true},
	} {
		path, asJSON := ParseTarget(tc.target, tc.accept)
		if path != tc.path || asJSON != tc.asJSON {
			t.Errorf("ParseTarget(%q, %q) = %q, %v", tc.target, tc.accept, path, asJSON)
		}
	}
}

func TestRender(t *testing.T) {
	if _, body := Render("/x", 1, false); body != "/x has been visited 1 time\n" {
		t.Errorf("text = %q", body)
	}
	ctype, body := Render(`/"q"`, 5, true)
	var v struct {
		Path   string
		Visits int64
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || ctype != "application/json" || v.Path != `/"q"` || v.Visits != 5 {
		t.Errorf("json = %s %q (%v)", ctype, body, err)
	}
}

package semver

import "testing"

func TestCompatible(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"wasi:io/streams@0.2.0", "wasi:io/streams@0.2.12", true},
		{"wasi:io/streams@0.2.0", "wasi:io/streams@0.3.0", false},
		{"a:b/c@1.0.0", "a:b/c@1.9.3", true},
		{"a:b/c@1.0.0", "a:b/c@2.0.0", false},
		{"a:b/c@0.0.1", "a:b/c@0.0.2", false},
		{"a:b/c@0.0.1", "a:b/c@0.0.1", true},
		{"wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/store@0.2.0-draft", true},
		{"wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/store@0.2.0", false},
		{"a:b/c@1.0.0", "a:b/d@1.0.0", false},
		{"a:b/c", "a:b/c", true},
		{"a:b/c", "a:b/c@1.0.0", false},
	} {
		if got := NamesCompatible(c.a, c.b); got != c.want {
			t.Errorf("NamesCompatible(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	v, err := Parse("1.2.3-rc.1+build")
	if err != nil || v != (Version{1, 2, 3, "rc.1"}) || v.String() != "1.2.3-rc.1" {
		t.Fatalf("Parse = %+v, %v", v, err)
	}
	for _, bad := range []string{"", "1.2", "1.2.x", "-1.0.0", "1.2.3.4"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
	if !(Version{0, 2, 0, "draft"}).Less(Version{0, 2, 0, ""}) || (Version{1, 0, 0, ""}).Less(Version{0, 9, 0, ""}) {
		t.Error("Less")
	}
}

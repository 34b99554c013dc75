package bindgen

import (
	"go/token"
	"strings"
	"unicode"
)

// exported turns a WIT identifier (kebab-case, words may be all caps) into
// an exported Go name: get-user-id -> GetUserID is not attempted; words are
// capitalised as written: get-user-id -> GetUserId.
func exported(name string) string {
	name = strings.TrimPrefix(name, "%")
	var b strings.Builder
	for _, w := range strings.Split(name, "-") {
		if w == "" {
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// local turns a WIT identifier into an unexported Go name that is not a
// keyword or a predeclared identifier the generated code uses.
func local(name string) string {
	e := exported(name)
	r := []rune(e)
	r[0] = unicode.ToLower(r[0])
	s := string(r)
	if token.IsKeyword(s) || reserved[s] {
		s += "_"
	}
	return s
}

// reserved are names generated code uses in function bodies.
var reserved = map[string]bool{
	"cabi": true, "math": true, "runtime": true, "unsafe": true, "ret": true,
	"string": true, "bool": true, "len": true, "make": true, "panic": true,
	"uint32": true, "uint64": true, "int32": true, "int64": true, "float32": true, "float64": true,
	"uint8": true, "int8": true, "uint16": true, "int16": true, "rune": true, "byte": true,
	"append": true, "copy": true, "new": true, "nil": true, "true": true, "false": true,
	"min": true, "max": true, "clear": true, "any": true, "error": true,
}

// pkgName turns a WIT identifier into a Go package name.
func pkgName(name string) string {
	s := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "%"), "-", ""))
	if token.IsKeyword(s) || reserved[s] {
		s += "_"
	}
	return s
}

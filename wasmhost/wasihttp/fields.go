package wasihttp

import (
	"context"
	"net/http"
	"strings"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// field is one name/value pair of a fields resource, the name in the
// casing it was given.
type field struct {
	name  string
	value []byte
}

// fieldList is the data of a fields resource, shared by the handles to it
// (a request's headers() returns a new handle to the same list each time).
type fieldList struct {
	entries []field
}

// fieldsRef is what a fields handle refers to.
type fieldsRef struct {
	l         *fieldList
	immutable bool
}

// forbidden are the fields a guest may not set: hop-by-hop and framing
// fields the host manages itself (the set wasmtime forbids by default).
var forbidden = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "proxy-connection": true, "transfer-encoding": true,
	"upgrade": true, "host": true, "http2-settings": true,
}

// hopByHop are the fields of an incoming message not given to the guest:
// they describe the connection the host terminates.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true, "http2-settings": true, "te": true,
}

// validName reports whether s is a field name: a non-empty RFC 9110 token.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validValue reports whether b is a field value: no control characters but
// horizontal tab (so no CR, LF or NUL), no leading or trailing whitespace.
func validValue(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	if n := len(b); n > 0 && (isWS(b[0]) || isWS(b[n-1])) {
		return false
	}
	return true
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

// check validates a name and values for a mutation: the header-error case,
// or -1.
func checkField(name string, values ...[]byte) int {
	if !validName(name) {
		return heInvalidSyntax
	}
	for _, v := range values {
		if !validValue(v) {
			return heInvalidSyntax
		}
	}
	if forbidden[strings.ToLower(name)] {
		return heForbidden
	}
	return -1
}

func (l *fieldList) get(name string) []any {
	vals := []any{}
	if !validName(name) {
		return vals
	}
	for _, f := range l.entries {
		if strings.EqualFold(f.name, name) {
			vals = append(vals, append([]byte{}, f.value...))
		}
	}
	return vals
}

func (l *fieldList) has(name string) bool {
	if !validName(name) {
		return false
	}
	for _, f := range l.entries {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}

// set replaces the values of name, where its first value was (else at the
// end).
func (l *fieldList) set(name string, values [][]byte) {
	at := -1
	out := l.entries[:0:0]
	for _, f := range l.entries {
		if strings.EqualFold(f.name, name) {
			if at < 0 {
				at = len(out)
			}
			continue
		}
		out = append(out, f)
	}
	if at < 0 {
		at = len(out)
	}
	add := make([]field, len(values))
	for i, v := range values {
		add[i] = field{name, append([]byte{}, v...)}
	}
	l.entries = append(out[:at:at], append(add, out[at:]...)...)
}

func (l *fieldList) delete(name string) {
	out := l.entries[:0:0]
	for _, f := range l.entries {
		if !strings.EqualFold(f.name, name) {
			out = append(out, f)
		}
	}
	l.entries = out
}

func (l *fieldList) append(name string, v []byte) {
	l.entries = append(l.entries, field{name, append([]byte{}, v...)})
}

func (l *fieldList) list() []any {
	out := make([]any, len(l.entries))
	for i, f := range l.entries {
		out[i] = []any{f.name, append([]byte{}, f.value...)}
	}
	return out
}

func (l *fieldList) clone() *fieldList {
	c := &fieldList{entries: make([]field, len(l.entries))}
	for i, f := range l.entries {
		c.entries[i] = field{f.name, append([]byte{}, f.value...)}
	}
	return c
}

// size is the header-section size as net/http counts it: name, value and
// 4 bytes of ": " and CRLF per field.
func (l *fieldList) size() int {
	n := 0
	for _, f := range l.entries {
		n += len(f.name) + len(f.value) + 4
	}
	return n
}

// header converts the fields to an http.Header (names canonicalized).
func (l *fieldList) header() http.Header {
	h := make(http.Header, len(l.entries))
	for _, f := range l.entries {
		h.Add(f.name, string(f.value))
	}
	return h
}

// fromHeader builds the fields of an incoming message: lower-case names
// (as HTTP/2 has them), sorted by name (an http.Header is a map; the values
// of one name keep their order), hop-by-hop fields left out.
func fromHeader(h http.Header) *fieldList {
	l := &fieldList{}
	for _, k := range sortedKeys(h) {
		lk := strings.ToLower(k)
		if hopByHop[lk] {
			continue
		}
		for _, v := range h[k] {
			l.entries = append(l.entries, field{lk, []byte(v)})
		}
	}
	return l
}

func (b *binding) registerFields() {
	h := b.h
	ti := b.types
	rt := b.fieldsRT
	own := value.Own(rt)
	get := func(arg any) (*fieldsRef, error) { return lookup(h, &h.fields, "fields", arg) }
	mutable := func(arg any) (*fieldsRef, []any, error) {
		f, err := get(arg)
		if err != nil {
			return nil, nil, err
		}
		if f.immutable {
			return nil, headerErr(heImmutable), nil
		}
		return f, nil, nil
	}
	resUnit := value.ResultOf(nil, headerErrorT)

	b.def(ti, ctorName("fields"), fn(own), func(ctx context.Context, args []any) ([]any, error) {
		hd, err := insert(h, &h.fields, rt, &fieldsRef{l: &fieldList{}})
		return one(hd), err
	})
	b.def(ti, staticName("fields", "from-list"), fn(value.ResultOf(own, headerErrorT), "entries", entriesT),
		func(ctx context.Context, args []any) ([]any, error) {
			in, _ := args[0].([]any)
			l := &fieldList{entries: make([]field, 0, len(in))}
			for _, e := range in {
				t := e.([]any)
				name, _ := t[0].(string)
				v, _ := t[1].([]byte)
				if c := checkField(name, v); c >= 0 {
					return headerErr(uint32(c)), nil
				}
				l.entries = append(l.entries, field{name, append([]byte{}, v...)})
			}
			hd, err := insert(h, &h.fields, rt, &fieldsRef{l: l})
			if err != nil {
				return nil, err
			}
			return okRes(hd), nil
		})
	b.def(ti, methodName("fields", "get"), method(rt, value.ListOf(bytesT), "name", stringT),
		func(ctx context.Context, args []any) ([]any, error) {
			f, err := get(args[0])
			if err != nil {
				return nil, err
			}
			return one(f.l.get(args[1].(string))), nil
		})
	b.def(ti, methodName("fields", "has"), method(rt, boolT, "name", stringT),
		func(ctx context.Context, args []any) ([]any, error) {
			f, err := get(args[0])
			if err != nil {
				return nil, err
			}
			return one(f.l.has(args[1].(string))), nil
		})
	b.def(ti, methodName("fields", "set"), method(rt, resUnit, "name", stringT, "value", value.ListOf(bytesT)),
		func(ctx context.Context, args []any) ([]any, error) {
			f, res, err := mutable(args[0])
			if f == nil {
				return res, err
			}
			name := args[1].(string)
			in, _ := args[2].([]any)
			vals := make([][]byte, len(in))
			for i, v := range in {
				vals[i], _ = v.([]byte)
			}
			if c := checkField(name, vals...); c >= 0 {
				return headerErr(uint32(c)), nil
			}
			f.l.set(name, vals)
			return okRes(nil), nil
		})
	b.def(ti, methodName("fields", "delete"), method(rt, resUnit, "name", stringT),
		func(ctx context.Context, args []any) ([]any, error) {
			f, res, err := mutable(args[0])
			if f == nil {
				return res, err
			}
			name := args[1].(string)
			if c := checkField(name); c >= 0 {
				return headerErr(uint32(c)), nil
			}
			f.l.delete(name)
			return okRes(nil), nil
		})
	b.def(ti, methodName("fields", "append"), method(rt, resUnit, "name", stringT, "value", bytesT),
		func(ctx context.Context, args []any) ([]any, error) {
			f, res, err := mutable(args[0])
			if f == nil {
				return res, err
			}
			name := args[1].(string)
			v, _ := args[2].([]byte)
			if c := checkField(name, v); c >= 0 {
				return headerErr(uint32(c)), nil
			}
			f.l.append(name, v)
			return okRes(nil), nil
		})
	b.def(ti, methodName("fields", "entries"), method(rt, entriesT),
		func(ctx context.Context, args []any) ([]any, error) {
			f, err := get(args[0])
			if err != nil {
				return nil, err
			}
			return one(f.l.list()), nil
		})
	b.def(ti, methodName("fields", "clone"), method(rt, own),
		func(ctx context.Context, args []any) ([]any, error) {
			f, err := get(args[0])
			if err != nil {
				return nil, err
			}
			hd, err := insert(h, &h.fields, rt, &fieldsRef{l: f.l.clone()})
			return one(hd), err
		})
}

// newFields returns an own handle to fields over l.
func (h *Host) newFields(l *fieldList, immutable bool) (value.Handle, error) {
	return insert(h, &h.fields, h.rts.fields, &fieldsRef{l: l, immutable: immutable})
}

// takeFields removes the fields behind an own handle the guest passed in
// (ownership moved to the host) and freezes them.
func (h *Host) takeFields(arg any) (*fieldList, error) {
	f, err := take(h, &h.fields, "fields", arg)
	if err != nil {
		return nil, err
	}
	return f.l, nil
}

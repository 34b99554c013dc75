package wasi

import "github.com/wbox-dev/wbox/wasmhost/value"

// Helpers to write WIT function types compactly.

// fn returns func(params...) -> result; result nil means no result.
// params alternate names and types.
func fn(result *value.Type, params ...any) *value.FuncType {
	ft := &value.FuncType{}
	for i := 0; i+1 < len(params); i += 2 {
		ft.Params = append(ft.Params, value.Param{Name: params[i].(string), Type: params[i+1].(*value.Type)})
	}
	if result != nil {
		ft.Results = []value.Param{{Type: result}}
	}
	return ft
}

// method is fn with a leading self: borrow<rt>.
func method(rt *value.ResourceType, result *value.Type, params ...any) *value.FuncType {
	return fn(result, append([]any{"self", value.Borrow(rt)}, params...)...)
}

// methodName is the component-model name of a resource method.
func methodName(resource, name string) string { return "[method]" + resource + "." + name }

func named(name string, t *value.Type) *value.Type {
	c := *t
	c.Name = name
	return &c
}

func record(name string, fields ...any) *value.Type {
	t := &value.Type{Kind: value.KindRecord, Name: name}
	for i := 0; i+1 < len(fields); i += 2 {
		t.Fields = append(t.Fields, value.Field{Name: fields[i].(string), Type: fields[i+1].(*value.Type)})
	}
	return t
}

func enum(name string, labels ...string) *value.Type {
	return &value.Type{Kind: value.KindEnum, Name: name, Labels: labels}
}

func flags(name string, labels ...string) *value.Type {
	return &value.Type{Kind: value.KindFlags, Name: name, Labels: labels}
}

var (
	u8T     = value.U8
	u32T    = value.U32
	u64T    = value.U64
	s32T    = value.S32
	boolT   = value.Bool
	stringT = value.String
	bytesT  = value.ListOf(value.U8)

	// wasi:clocks/wall-clock datetime.
	datetimeT = record("datetime", "seconds", u64T, "nanoseconds", u32T)
)

// Results of the Go representation.

func ok(v any) []any           { return []any{value.Ok(v)} }
func one(v any) []any          { return []any{v} }
func some(v any) value.Variant { return value.Some(v) }

func datetime(sec uint64, nsec uint32) []any { return []any{sec, nsec} }

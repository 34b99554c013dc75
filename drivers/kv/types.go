package kv

import (
	"github.com/wbox-dev/wbox/wasmhost"
	"github.com/wbox-dev/wbox/wasmhost/value"
)

// The interfaces a kv driver exports: wasi:keyvalue 0.2.0-draft2
// (wit/deps/wasi-keyvalue) and wbox's own small store (wit/wbox-kv.wit).
const (
	Interface    = "wbox:kv/store@0.1.0"
	StoreIface   = "wasi:keyvalue/store@0.2.0-draft2"
	AtomicsIface = "wasi:keyvalue/atomics@0.2.0-draft2"
	BatchIface   = "wasi:keyvalue/batch@0.2.0-draft2"
)

var (
	getType    = &value.FuncType{Params: []value.Param{{Name: "key", Type: value.String}}, Results: []value.Param{{Type: value.OptionOf(value.String)}}}
	setType    = &value.FuncType{Params: []value.Param{{Name: "key", Type: value.String}, {Name: "value", Type: value.String}}}
	deleteType = &value.FuncType{Params: []value.Param{{Name: "key", Type: value.String}}, Results: []value.Param{{Type: value.Bool}}}
)

// StoreType is wbox:kv/store as an instance type, for the linker.
func StoreType() *wasmhost.InstanceType {
	return &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		{Name: "get", Kind: wasmhost.ExternFunc, Func: getType},
		{Name: "set", Kind: wasmhost.ExternFunc, Func: setType},
		{Name: "delete", Kind: wasmhost.ExternFunc, Func: deleteType},
	}}
}

// wasi:keyvalue's error variant cases.
const (
	errNoSuchStore = iota
	errAccessDenied
	errOther
)

var (
	errorType = &value.Type{Kind: value.KindVariant, Name: "error", Cases: []value.Case{
		{Name: "no-such-store"}, {Name: "access-denied"}, {Name: "other", Type: value.String},
	}}
	keyResponseType = &value.Type{Kind: value.KindRecord, Name: "key-response", Fields: []value.Field{
		{Name: "keys", Type: value.ListOf(value.String)},
		{Name: "cursor", Type: value.OptionOf(value.String)},
	}}
	bytesType = value.ListOf(value.U8)
)

func param(name string, t *value.Type) value.Param { return value.Param{Name: name, Type: t} }

func fn(params []value.Param, result *value.Type) *value.FuncType {
	ft := &value.FuncType{Params: params}
	if result != nil {
		ft.Results = []value.Param{{Type: result}}
	}
	return ft
}

func funcExtern(name string, ft *value.FuncType) wasmhost.Extern {
	return wasmhost.Extern{Name: name, Kind: wasmhost.ExternFunc, Func: ft}
}

// keyvalueTypes returns the three wasi:keyvalue interfaces as instance
// types, bucket being the store's bucket resource (atomics and batch use
// it) and cas atomics' own.
func keyvalueTypes(bucket, cas *value.ResourceType) (store, atomics, batch *wasmhost.InstanceType) {
	b := value.Borrow(bucket)
	res := func(ok *value.Type) *value.Type { return value.ResultOf(ok, errorType) }
	store = &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		{Name: "error", Kind: wasmhost.ExternType, Type: errorType},
		{Name: "key-response", Kind: wasmhost.ExternType, Type: keyResponseType},
		{Name: "bucket", Kind: wasmhost.ExternType, Resource: bucket},
		funcExtern("open", fn([]value.Param{param("identifier", value.String)}, res(value.Own(bucket)))),
		funcExtern("[method]bucket.get", fn([]value.Param{param("self", b), param("key", value.String)}, res(value.OptionOf(bytesType)))),
		funcExtern("[method]bucket.set", fn([]value.Param{param("self", b), param("key", value.String), param("value", bytesType)}, res(nil))),
		funcExtern("[method]bucket.delete", fn([]value.Param{param("self", b), param("key", value.String)}, res(nil))),
		funcExtern("[method]bucket.exists", fn([]value.Param{param("self", b), param("key", value.String)}, res(value.Bool))),
		funcExtern("[method]bucket.list-keys", fn([]value.Param{param("self", b), param("cursor", value.OptionOf(value.String))}, res(keyResponseType))),
	}}
	casErr := &value.Type{Kind: value.KindVariant, Name: "cas-error", Cases: []value.Case{
		{Name: "store-error", Type: errorType}, {Name: "cas-failed", Type: value.Own(cas)},
	}}
	atomics = &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		{Name: "bucket", Kind: wasmhost.ExternType, Resource: bucket},
		{Name: "error", Kind: wasmhost.ExternType, Type: errorType},
		{Name: "cas-error", Kind: wasmhost.ExternType, Type: casErr},
		{Name: "cas", Kind: wasmhost.ExternType, Resource: cas},
		funcExtern("[static]cas.new", fn([]value.Param{param("bucket", b), param("key", value.String)}, res(value.Own(cas)))),
		funcExtern("[method]cas.current", fn([]value.Param{param("self", value.Borrow(cas))}, res(value.OptionOf(bytesType)))),
		funcExtern("increment", fn([]value.Param{param("bucket", b), param("key", value.String), param("delta", value.S64)}, res(value.S64))),
		funcExtern("swap", fn([]value.Param{param("cas", value.Own(cas)), param("value", bytesType)}, value.ResultOf(nil, casErr))),
	}}
	pair := value.TupleOf(value.String, bytesType)
	batch = &wasmhost.InstanceType{Exports: []wasmhost.Extern{
		{Name: "bucket", Kind: wasmhost.ExternType, Resource: bucket},
		{Name: "error", Kind: wasmhost.ExternType, Type: errorType},
		funcExtern("get-many", fn([]value.Param{param("bucket", b), param("keys", value.ListOf(value.String))}, res(value.ListOf(value.OptionOf(pair))))),
		funcExtern("set-many", fn([]value.Param{param("bucket", b), param("key-values", value.ListOf(pair))}, res(nil))),
		funcExtern("delete-many", fn([]value.Param{param("bucket", b), param("keys", value.ListOf(value.String))}, res(nil))),
	}}
	return store, atomics, batch
}

package wasmhost

import (
	"github.com/tetratelabs/wazero/api"
)

// A core instance made of inline exports (wit-component's bundles of
// lowered functions, tables and memories taken from different places) has no
// wazero module behind it, yet core modules can import only from modules.
// reexport builds the smallest core module that imports each item from where
// it lives and exports it under its bundle name. wazero links imported
// functions directly, so calls through it cost nothing extra.

type reexportItem struct {
	module  string // import module name, resolved per instantiation
	field   string // import field name
	export  string // name in the bundle
	kind    byte   // 0 func, 1 table, 2 memory, 3 global
	params  []api.ValueType
	results []api.ValueType
	memMin  uint32
	memMax  *uint32
	global  api.ValueType
	mutable bool
}

// encodeReexport returns a core module binary re-exporting items.
func encodeReexport(items []reexportItem) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	var types, imports, exports []byte
	nTypes := 0
	var counts [4]uint32
	idx := make([]uint32, len(items))
	for i, it := range items {
		imports = appendName(imports, it.module)
		imports = appendName(imports, it.field)
		imports = append(imports, it.kind)
		switch it.kind {
		case 0:
			types = append(types, 0x60)
			types = appendU32(types, uint32(len(it.params)))
			types = append(types, it.params...)
			types = appendU32(types, uint32(len(it.results)))
			types = append(types, it.results...)
			imports = appendU32(imports, uint32(nTypes))
			nTypes++
		case 1:
			imports = append(imports, 0x70, 0x00)
			imports = appendU32(imports, 0)
		case 2:
			if it.memMax != nil {
				imports = append(imports, 0x01)
				imports = appendU32(imports, it.memMin)
				imports = appendU32(imports, *it.memMax)
			} else {
				imports = append(imports, 0x00)
				imports = appendU32(imports, it.memMin)
			}
		case 3:
			imports = append(imports, it.global)
			if it.mutable {
				imports = append(imports, 1)
			} else {
				imports = append(imports, 0)
			}
		}
		idx[i] = counts[it.kind]
		counts[it.kind]++
	}
	for i, it := range items {
		exports = appendName(exports, it.export)
		exports = append(exports, it.kind)
		exports = appendU32(exports, idx[i])
	}
	b = appendSection(b, 1, uint32(nTypes), types)
	b = appendSection(b, 2, uint32(len(items)), imports)
	b = appendSection(b, 7, uint32(len(items)), exports)
	return b
}

func appendSection(b []byte, id byte, n uint32, body []byte) []byte {
	var content []byte
	content = appendU32(content, n)
	content = append(content, body...)
	b = append(b, id)
	b = appendU32(b, uint32(len(content)))
	return append(b, content...)
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

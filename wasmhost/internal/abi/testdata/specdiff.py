"""Differential check of wbox's Canonical ABI against the spec's reference.

Usage: specdiff.py DEFINITIONS_PY CASES_JSON

DEFINITIONS_PY is design/mvp/canonical-abi/definitions.py of
WebAssembly/component-model, imported as is. CASES_JSON is written by
TestSpecDifferential: for each case a type, a value, the layout wbox
computed, the memory after wbox's Store at ptr, and wbox's LowerFlat.
"""
import base64
import importlib.util
import json
import struct
import sys

spec = importlib.util.spec_from_file_location("definitions", sys.argv[1])
d = importlib.util.module_from_spec(spec)
sys.modules["definitions"] = d
spec.loader.exec_module(d)


def typ(j):
    if j is None:
        return None
    k = j["kind"]
    prim = {"bool": d.BoolType, "s8": d.S8Type, "u8": d.U8Type, "s16": d.S16Type,
            "u16": d.U16Type, "s32": d.S32Type, "u32": d.U32Type, "s64": d.S64Type,
            "u64": d.U64Type, "f32": d.F32Type, "f64": d.F64Type, "char": d.CharType,
            "string": d.StringType}
    if k in prim:
        return prim[k]()
    if k == "list":
        return d.ListType(typ(j["elem"]))
    if k == "option":
        return d.OptionType(typ(j["elem"]))
    if k == "result":
        return d.ResultType(typ(j["ok"]), typ(j["err"]))
    if k == "record":
        return d.RecordType([d.FieldType(n, typ(t)) for n, t in j["fields"]])
    if k == "tuple":
        return d.TupleType([typ(t) for t in j["types"]])
    if k == "variant":
        return d.VariantType([d.CaseType(n, typ(t)) for n, t in j["cases"]])
    if k == "enum":
        return d.EnumType(j["labels"])
    if k == "flags":
        return d.FlagsType(j["labels"])
    raise ValueError(k)


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def f64(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def expect(t, j):
    """The reference's lifted form of wbox's JSON value j of type t."""
    k = t.__class__.__name__
    if k == "F32Type":
        return f32(j)
    if k == "F64Type":
        return f64(j)
    if k == "CharType":
        return chr(j)
    if k == "StringType":
        return j
    if k == "ListType":
        return [expect(t.t, e) for e in j]
    if k == "RecordType":
        return {f.label: expect(f.t, e) for f, e in zip(t.fields, j)}
    if k == "TupleType":
        return {str(i): expect(e, x) for i, (e, x) in enumerate(zip(t.ts, j))}
    if k in ("VariantType", "EnumType", "OptionType", "ResultType"):
        cases = d.despecialize(t).cases
        c = cases[j[0]]
        return {c.label: None if c.t is None else expect(c.t, j[1])}
    if k == "FlagsType":
        return {l: bool(j >> i & 1) for i, l in enumerate(t.labels)}
    return j


def strip(v):
    """Drop the reference's string encoding hints: (s, enc, units) -> s."""
    if isinstance(v, tuple):
        return v[0]
    if isinstance(v, list):
        return [strip(e) for e in v]
    if isinstance(v, dict):
        return {k: strip(e) for k, e in v.items()}
    return v


class RecordingContext(d.LiftLowerContext):
    """A context whose realloc is a bump allocator recording its calls."""

    def __init__(self, opts):
        super().__init__(opts, None)
        self.top = 16
        self.calls = []

    def reallocate(self, old, old_size, align, new_size):
        self.calls.append([old_size, align, new_size])
        ptr = d.align_to(self.top, align)
        self.top = ptr + new_size
        mem = self.opts.memory.bytes
        mem[ptr:ptr + min(old_size, new_size)] = mem[old:old + min(old_size, new_size)]
        return ptr


def check_string(c):
    opts = d.LiftLowerOptions(string_encoding=c["encoding"], memory=d.MemInst(bytearray(1 << 16), "i32"))
    cx = RecordingContext(opts)
    src = c["s"]
    ptr, tagged = d.store_string_into_range(cx, (src, "utf8", len(src.encode("utf-8"))))
    problems = []
    if cx.calls != (c["calls"] or []):
        problems.append("realloc calls %s != %s" % (c["calls"], cx.calls))
    if tagged != c["tagged"]:
        problems.append("tagged length %#x != %#x" % (c["tagged"], tagged))
    n = tagged & ~(1 << 31)
    if c["encoding"] == "utf16" or tagged & (1 << 31):
        n *= 2
    want = bytes(opts.memory.bytes[ptr:ptr + n])
    if base64.b64decode(c["bytes"]) != want:
        problems.append("bytes %s != %s" % (base64.b64decode(c["bytes"]).hex(), want.hex()))
    return problems


def main():
    data = json.load(open(sys.argv[2]))
    bad = 0
    for i, c in enumerate(data["strings"]):
        problems = check_string(c)
        if problems:
            bad += 1
            if bad <= 10:
                print("string %r (%s):" % (c["s"], c["encoding"]))
                for p in problems:
                    print("   ", p)
    print("%d strings, %d mismatches" % (len(data["strings"]), bad))
    cases = data["values"]
    for i, c in enumerate(cases):
        t = typ(c["type"])
        mem = bytearray(base64.b64decode(c["memory"]))
        opts = d.LiftLowerOptions(string_encoding=c["encoding"], memory=d.MemInst(mem, "i32"))
        cx = d.LiftLowerContext(opts, None)
        want = expect(t, c["value"])
        problems = []
        if d.elem_size(t, "i32") != c["size"]:
            problems.append("size %d != %d" % (c["size"], d.elem_size(t, "i32")))
        if d.alignment(t, "i32") != c["align"]:
            problems.append("align %d != %d" % (c["align"], d.alignment(t, "i32")))
        flat_types = d.flatten_type(t, opts)
        if flat_types != (c["flat_types"] or []):
            problems.append("flatten %s != %s" % (c["flat_types"], flat_types))
        got = strip(d.load(cx, c["ptr"], t))
        if got != want:
            problems.append("load: %r != %r" % (got, want))
        flat = []
        for ft, x in zip(flat_types, c["flat"] or []):
            flat.append(f32(x & 0xffffffff) if ft == "f32" else f64(x) if ft == "f64" else x)
        got = strip(d.lift_flat(cx, d.CoreValueIter(flat), t))
        if got != want:
            problems.append("lift_flat: %r != %r" % (got, want))
        if problems:
            bad += 1
            if bad <= 10:
                print("case %d (%s) %s:" % (i, c["encoding"], json.dumps(c["type"])))
                for p in problems:
                    print("   ", p)
    print("%d values, %d mismatches in all" % (len(cases), bad))
    sys.exit(1 if bad else 0)


main()

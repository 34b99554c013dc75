// The AssemblyScript guest of the bindings test (world test:kitchen/kitchen),
// the same behaviour as ../kitchen/main.go.
import { types, host, kitchen, Option, Result, Tuple3, ok, err } from "./gen/bindings";

export namespace api {
  export function roundtripItem(i: types.Item): types.Item {
    return i;
  }

  export function roundtripItems(items: Array<types.Item>): Array<types.Item> {
    return items;
  }

  export function reverseShapes(s: Array<types.Shape>): Array<types.Shape> {
    return s.reverse();
  }

  export function classify(n: i64): Result<string, types.Color> {
    if (n < 0) return err<string, types.Color>(types.Color.Red);
    if (n == 0) return err<string, types.Color>(types.Color.Blue);
    return ok<string, types.Color>("n=" + n.toString());
  }

  export function opt(o: Option<Option<u32>>): Option<Option<u32>> {
    return o;
  }

  export function swap(t: Tuple3<u8, string, f32>): Tuple3<f32, string, u8> {
    return new Tuple3<f32, string, u8>(t.f2, t.f1 + "!", t.f0);
  }

  export function many(a: u32, b: u64, c: f32, d: f64, e: string, f: string, g: string, h: string,
    i: string, j: string, k: string, l: string, m: string): u32 {
    return a + <u32>b + <u32>c + <u32>d + e.length + f.length + g.length + h.length + i.length + j.length +
      k.length + l.length + m.length;
  }

  export function mixedList(m: Array<types.Mixed>): Array<types.Mixed> {
    return m;
  }

  export function mixedOne(m: types.Mixed): types.Mixed {
    return m;
  }

  export function viaHost(key: string): Result<types.Item, string> {
    host.note("fetching " + key);
    return host.fetch(key);
  }

  export function hostList(xs: Array<u32>): Array<u32> {
    return host.echoList(xs);
  }

  export function hostMaybe(n: Option<u32>): Option<string> {
    return host.maybe(n);
  }

  export function hostSum(b: u32): u64 {
    return host.sum17(b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12,
      b + 13, b + 14, b + 15, b + 16);
  }

  export function add(a: u32, b: u32): u32 {
    return a + b;
  }

  export function half(x: f32): f32 {
    return x / 2;
  }

  export function isOdd(x: i16): bool {
    return x % 2 != 0;
  }

  export function nothing(): void {}

  export function origin(): types.Point {
    return new types.Point(-1, 2);
  }
}

export function ping(s: string): string {
  kitchen.log("ping " + s);
  return "pong " + s;
}

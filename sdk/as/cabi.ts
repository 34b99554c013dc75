// cabi.ts: the canonical-ABI runtime of AssemblyScript boxes (written by
// `wbox build` into gen/ beside the bindings).
//
// Memory: every block the host asks for (cabi_realloc) and every block the
// bindings fill for the host is a raw heap block, tracked here. Blocks of
// an export are freed by postReturn, after the host has copied its
// results; blocks of an import call (arguments, and results the host
// allocated) are freed as soon as the results are copied into
// AssemblyScript values (mark/release).

let blocks = new StaticArray<usize>(256);
let nblocks = 0;

function track(p: usize): usize {
  if (nblocks == blocks.length) {
    const grown = new StaticArray<usize>(blocks.length * 2);
    for (let i = 0; i < nblocks; i++) grown[i] = blocks[i];
    blocks = grown;
  }
  blocks[nblocks++] = p;
  return p;
}

// alloc returns a tracked block of size bytes (AssemblyScript's heap aligns
// to 16, more than any canonical-ABI alignment).
export function alloc(size: usize, _align: usize): usize {
  return track(heap.alloc(max<usize>(size, 1)));
}

// The host allocates arguments and imported results here.
export function cabi_realloc(old: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) return align;
  const p = alloc(newSize, align);
  if (oldSize) memory.copy(p, old, min(oldSize, newSize));
  return p;
}

// mark and release bracket an import call: release frees the blocks
// allocated since mark.
export function mark(): i32 {
  return nblocks;
}

export function release(m: i32): void {
  for (let i = m; i < nblocks; i++) heap.free(blocks[i]);
  nblocks = m;
}

// postReturn frees every block of the finished export call.
export function postReturn(): void {
  release(0);
}

// liftString decodes the UTF-8 string at ptr.
export function liftString(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

// lowerString writes s as UTF-8 into a tracked block and returns its
// address (its length is String.UTF8.byteLength(s)).
export function lowerString(s: string): usize {
  const p = alloc(String.UTF8.byteLength(s), 1);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
  return p;
}

// liftBytes copies the n bytes at ptr into a new Uint8Array.
export function liftBytes(ptr: usize, n: usize): Uint8Array {
  const a = new Uint8Array(<i32>n);
  memory.copy(a.dataStart, ptr, n);
  return a;
}

// lowerBytes copies b into a tracked block and returns its address.
export function lowerBytes(b: Uint8Array): usize {
  const p = alloc(b.length, 1);
  memory.copy(p, b.dataStart, b.length);
  return p;
}

// zero is an unset value of T (null for references).
// @ts-ignore: decorator
@inline
function zero<T>(): T {
  if (isReference<T>()) return changetype<T>(0);
  // @ts-ignore: T is a number here
  return <T>0;
}

// Option is option<T>: val is meaningful only when isSome.
export class Option<T> {
  constructor(public isSome: bool, public val: T) {}
}

export function some<T>(v: T): Option<T> {
  return new Option<T>(true, v);
}

export function none<T>(): Option<T> {
  return new Option<T>(false, zero<T>());
}

// Result is result<T, E>: ok is meaningful unless isErr, err when isErr
// (u8 stands for a missing payload).
export class Result<T, E> {
  constructor(public isErr: bool, public ok: T, public err: E) {}
}

export function ok<T, E>(v: T): Result<T, E> {
  return new Result<T, E>(false, v, zero<E>());
}

export function err<T, E>(e: E): Result<T, E> {
  return new Result<T, E>(true, zero<T>(), e);
}

// ResourceTable keeps the objects of a resource the box exports while the
// host holds handles to them: the rep of a handle is an index here.
export class ResourceTable<T> {
  items: Array<T | null> = [null];
  free: Array<u32> = [];

  add(v: T): u32 {
    if (this.free.length > 0) {
      const rep = this.free.pop();
      this.items[rep] = v;
      return rep;
    }
    this.items.push(v);
    return <u32>(this.items.length - 1);
  }

  get(rep: u32): T {
    return changetype<T>(this.items[rep]);
  }

  remove(rep: u32): T {
    const v = changetype<T>(this.items[rep]);
    this.items[rep] = null;
    this.free.push(rep);
    return v;
  }
}

// The AssemblyScript guest of the exported-resource test (world
// test:res/res), the same behaviour as ../resources/main.go.
let nlive: u32 = 0;

export namespace counters {
  // Counter is the box's class of the exported resource counter.
  export class Counter {
    constructor(public name: string, public n: u32) {
      nlive++;
    }

    add(n: u32): u32 {
      this.n += n;
      return this.n;
    }

    label(): string {
      return this.name + "=" + this.n.toString();
    }

    // merge consumes a (its handle is dropped by the bindings).
    static merge(a: Counter, b: Counter): Counter {
      return new Counter(a.name + "+" + b.name, a.n + b.n);
    }

    // drop runs when the last handle to the counter is dropped.
    drop(): void {
      nlive--;
    }
  }

  export function make(start: u32): Counter {
    return new Counter("made", start);
  }

  export function total(cs: Array<Counter>): u32 {
    let t: u32 = 0;
    for (let i = 0; i < cs.length; i++) t += cs[i].n;
    return t;
  }

  export function live(): u32 {
    return nlive;
  }
}

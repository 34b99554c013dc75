// Echo test component (world wbox:echo/echo-box) in JavaScript, built with
// `jco componentize --backend quickjs` (QuickJS + wit-dylib): the bindings map
// the canonical ABI to JS values, so there is no layout code here.
// WIT -> JS: interfaces are objects named in camelCase; record fields are
// plain properties; for a top-level result<T, E>, return T for ok and throw E
// for err.
import { log } from "wbox:echo/log@0.1.0";

export const echo = {
  echo({ text, tags }) {
    log(text);
    if (text === "") throw "empty text";
    return { text, tags: tags.slice().reverse() };
  },
  roundtrip(s) {
    return s;
  },
};

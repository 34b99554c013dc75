// Work-around for jco 1.35.0: every `--wit PATH` fails with
// "failed to get path metadata ... os error 44" because jco runs its bundled
// wasm-tools on @bytecodealliance/preview2-shim without any filesystem
// preopens. Load this with NODE_OPTIONS="--import <abs path of this file>":
// it preopens the host root ("/" -> "/") in every copy of preview2-shim that
// npm installed (jco, jco-transpile and preview3-shim each nest their own, and
// ESM module state is per copy), so absolute paths resolve.
//
// Only in the main thread: preview2-shim does its blocking I/O in worker
// threads, which inherit --import; importing the shim there would start more
// workers, recursively, until node runs out of memory.
import { isMainThread } from "node:worker_threads";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// Every node_modules/@bytecodealliance/preview2-shim below dir, following
// nested node_modules directories only (cheap: a few hundred stats).
function findShims(nodeModules, out = []) {
  if (!existsSync(nodeModules)) return out;
  for (const ent of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!ent.isDirectory() || ent.name.startsWith(".")) continue;
    const pkgs = ent.name.startsWith("@")
      ? readdirSync(join(nodeModules, ent.name)).map((n) => join(nodeModules, ent.name, n))
      : [join(nodeModules, ent.name)];
    for (const pkg of pkgs) {
      if (pkg.endsWith(join("@bytecodealliance", "preview2-shim"))) out.push(pkg);
      findShims(join(pkg, "node_modules"), out);
    }
  }
  return out;
}

if (isMainThread) {
  // This file lives in <repo>/components/internal/.
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  for (const shim of findShims(join(root, "node_modules"))) {
    const fs = join(shim, "dist", "nodejs", "filesystem.js");
    if (!existsSync(fs)) continue;
    const mod = await import(pathToFileURL(fs).href);
    mod._setPreopens?.({ "/": "/" });
  }
}

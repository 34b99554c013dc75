// wbox build's node driver (embedded in the wbox binary and written next to
// each build): runs the pinned npm toolchain in one node process.
//
//   node driver.mjs component CORE.wasm OUT.wasm WIT WORLD ADAPTER
//       embed the WIT world into a core module and wrap it into a component
//       (jco's componentEmbed + componentNew); ADAPTER is "reactor",
//       "command" or "none" (the preview1 adapter for WASI imports)
//   node driver.mjs jco ARG...    run the jco CLI
//
// WBOX_NODE_MODULES names the node_modules directory holding jco.
//
// jco 1.35.0 runs its bundled wasm-tools on preview2-shim without any
// filesystem preopens, so every WIT path fails ("failed to get path
// metadata"). Preopen the host root in every copy of the shim first (each
// nested copy has its own module state). Only this, the main thread, does
// it: the shim's worker threads must not start workers of their own.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const nm = process.env.WBOX_NODE_MODULES;
if (!nm) throw new Error("WBOX_NODE_MODULES is not set");

function shims(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (!ent.isDirectory() || ent.name.startsWith(".")) continue;
    const pkgs = ent.name.startsWith("@")
      ? readdirSync(join(dir, ent.name)).map((n) => join(dir, ent.name, n))
      : [join(dir, ent.name)];
    for (const pkg of pkgs) {
      if (pkg.endsWith(join("@bytecodealliance", "preview2-shim"))) out.push(pkg);
      shims(join(pkg, "node_modules"), out);
    }
  }
  return out;
}

for (const shim of shims(nm)) {
  const fs = join(shim, "dist", "nodejs", "filesystem.js");
  if (!existsSync(fs)) continue;
  const mod = await import(pathToFileURL(fs).href);
  mod._setPreopens?.({ "/": "/" });
}

const [cmd, ...args] = process.argv.slice(2);
const jcoDir = join(nm, "@bytecodealliance", "jco");
if (cmd === "component") {
  const [core, out, wit, world, adapter] = args;
  const jco = await import(pathToFileURL(join(jcoDir, "dist", "api.js")).href);
  const embedded = await jco.componentEmbed({
    binary: readFileSync(core),
    witPath: wit,
    world: world || undefined,
  });
  let adapters;
  if (adapter === "reactor" || adapter === "command") {
    const url = adapter === "reactor" ? jco.preview1AdapterReactorPath() : jco.preview1AdapterCommandPath();
    adapters = [["wasi_snapshot_preview1", readFileSync(url)]];
  }
  writeFileSync(out, await jco.componentNew(embedded, adapters));
} else if (cmd === "jco") {
  process.argv = [process.argv[0], join(jcoDir, "dist", "jco.js"), ...args];
  await import(pathToFileURL(join(jcoDir, "dist", "jco.js")).href);
} else {
  throw new Error(`driver: unknown command ${cmd}`);
}

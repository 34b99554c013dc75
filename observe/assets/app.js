// The wbox dashboard: polls /ui/graph and /v1/status and draws the
// topology as boxes and arrows, grouped by node.
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const BOX_W = 210, BOX_H = 74, COL = 310, ROW = 96, PAD = 30, HEAD = 28;
let selected = null;

function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function rate(x) { return x >= 10 ? x.toFixed(0) : x.toFixed(1); }
function mib(n) { return (n / 1048576).toFixed(1) + " MiB"; }

async function getJSON(url, opts) {
  const r = await fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store" }, opts || {}));
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// layout places every task: a band per node, columns by call depth.
function layout(g, status) {
  const where = {};
  if (status && status.cluster) {
    for (const n of status.cluster.nodes || []) for (const b of n.boxes || []) if (!(b in where)) where[b] = n.name;
  }
  const tasks = [];
  for (const b of g.boxes) tasks.push(Object.assign({ driver: false, node: g.node }, b));
  for (const d of g.drivers) {
    const remote = d.kind === "wbox.remote";
    tasks.push(Object.assign({ driver: !remote, remote, node: remote ? (where[d.name] || "other nodes") : g.node }, d));
  }
  const byName = {};
  for (const t of tasks) byName[t.name] = t;
  // depth: the longest chain of arrows leading to the task (cycles cut).
  const depth = {};
  for (const t of tasks) depth[t.name] = 0;
  for (let i = 0; i < tasks.length; i++) {
    for (const a of g.arrows) {
      if (a.target in depth && a.from in depth && depth[a.target] < depth[a.from] + 1) depth[a.target] = Math.min(depth[a.from] + 1, tasks.length);
    }
  }
  const nodes = [...new Set(tasks.map(t => t.node))].sort((a, b) => (a === g.node ? -1 : b === g.node ? 1 : a.localeCompare(b)));
  const groups = [];
  let y = PAD;
  for (const n of nodes) {
    const mine = tasks.filter(t => t.node === n);
    const rows = {};
    let maxRow = 0, maxCol = 0;
    for (const t of mine.sort((a, b) => a.name.localeCompare(b.name))) {
      const c = depth[t.name];
      const r = rows[c] = (rows[c] || 0) + 1;
      t.x = PAD + 20 + c * COL;
      t.y = y + HEAD + (r - 1) * ROW;
      maxRow = Math.max(maxRow, r);
      maxCol = Math.max(maxCol, c);
    }
    groups.push({ name: n, y, h: HEAD + maxRow * ROW, w: (maxCol + 1) * COL });
    y += HEAD + maxRow * ROW + PAD;
  }
  return { tasks, byName, groups, height: y };
}

function draw(g, status) {
  const svg = document.getElementById("graph");
  const L = layout(g, status);
  const width = Math.max(...L.groups.map(gr => gr.w), COL) + 2 * PAD + 20;
  svg.setAttribute("viewBox", `0 0 ${width} ${L.height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", L.height);
  svg.replaceChildren();
  const defs = el("defs");
  const marker = el("marker", { id: "head", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "8", markerHeight: "8", orient: "auto-start-reverse" });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#6b7a99" }));
  defs.append(marker);
  svg.append(defs);
  for (const gr of L.groups) {
    const gg = el("g", { class: "group", "data-node": gr.name });
    gg.append(el("rect", { x: PAD, y: gr.y, width: gr.w, height: gr.h, rx: 8 }));
    gg.append(el("text", { x: PAD + 10, y: gr.y + 18 }, "node " + gr.name));
    svg.append(gg);
  }
  for (const a of g.arrows) {
    const f = L.byName[a.from], t = L.byName[a.target];
    if (!f || !t) continue;
    const x1 = f.x + BOX_W, y1 = f.y + BOX_H / 2, x2 = t.x, y2 = t.y + BOX_H / 2;
    const mx = (x1 + x2) / 2;
    const ag = el("g", { class: "arrow" + (a.errors_per_sec > 0 ? " erring" : ""), "data-from": a.from, "data-target": a.target,
      "data-import": a.import, "data-calls": a.calls, "data-errors": a.errors, "data-cps": a.calls_per_sec.toFixed(2) });
    const d = x2 > x1 ? `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}` : `M ${f.x + BOX_W / 2} ${f.y + BOX_H} C ${f.x + BOX_W / 2} ${y2 + 60}, ${x2 - 40} ${y2}, ${x2} ${y2}`;
    ag.append(el("path", { d, "marker-end": "url(#head)" }));
    ag.append(el("title", {}, `${a.from} ${a.import || "(driver)"} → ${a.target}: ${a.calls} calls, ${a.errors} errors, p50 ${a.p50_ms} ms`));
    const lx = x2 - 78, ly = y2 - 7;
    ag.append(el("text", { class: "rate", x: lx, y: ly }, `${rate(a.calls_per_sec)}/s`));
    ag.append(el("text", { class: a.errors > 0 ? "err" : "errs", x: lx + 40, y: ly }, `${a.errors} err`));
    svg.append(ag);
  }
  for (const t of L.tasks) {
    const cls = "box" + (t.driver ? " driver" : "") + (t.remote ? " remote" : "") + (selected === t.name ? " selected" : "");
    const bg = el("g", { class: cls, "data-name": t.name, "data-state": t.state, "data-kind": t.kind, "data-restarts": t.restarts,
      "data-calls": t.calls, "data-node": t.node, transform: `translate(${t.x},${t.y})` });
    bg.append(el("rect", { width: BOX_W, height: BOX_H, rx: 6 }));
    bg.append(el("rect", { class: "state", x: 8, y: 9, width: 10, height: 10, rx: 5 }));
    bg.append(el("text", { class: "name", x: 24, y: 18 }, t.name));
    if (t.kind === "box") {
      bg.append(el("text", { class: "meta", x: 10, y: 38 }, `${t.state} · restarts ${t.restarts} · ${t.instances} inst`));
      bg.append(el("text", { class: "mem", x: 10, y: 54 }, `mem ${mib(t.memory_bytes)} · queue ${t.in_flight}`));
    } else {
      bg.append(el("text", { class: "meta", x: 10, y: 38 }, `${t.remote ? "remote box" : "driver " + t.kind} · ${t.state}`));
      bg.append(el("text", { class: "mem", x: 10, y: 54 }, `restarts ${t.restarts}`));
    }
    bg.append(el("text", { class: "calls", x: 10, y: 68 }, `${rate(t.calls_per_sec)} calls/s · ${t.errors} errors`));
    bg.addEventListener("click", () => showDetail(t.name));
    svg.append(bg);
  }
  const calls = g.arrows.reduce((s, a) => s + a.calls_per_sec, 0);
  document.getElementById("summary").textContent =
    `node ${g.node} · ${g.boxes.length} boxes · ${g.drivers.length} drivers · ${g.arrows.length} arrows · ${rate(calls)} arrow calls/s · ${new Date(g.taken).toLocaleTimeString()}`;
}

async function showDetail(name) {
  selected = name;
  const d = await getJSON("ui/box/" + encodeURIComponent(name));
  document.getElementById("detail").hidden = false;
  document.getElementById("detail-name").textContent = d.name;
  document.getElementById("detail-meta").textContent = `${d.kind} · ${d.state}` + (d.digest ? ` · ${d.digest.slice(0, 19)}…` : "") + (d.last_error ? ` · last error: ${d.last_error}` : "");
  const ul = document.getElementById("detail-arrows");
  ul.replaceChildren(...(d.arrows || []).map(a => { const li = document.createElement("li"); li.textContent = a; return li; }));
  const tbl = document.getElementById("detail-config");
  const cfg = Object.entries(d.config || d.settings || {});
  tbl.replaceChildren(...cfg.map(([k, v]) => { const tr = document.createElement("tr"); tr.innerHTML = "<td></td><td></td>"; tr.children[0].textContent = k; tr.children[1].textContent = v; return tr; }));
  document.getElementById("detail-wit").textContent = d.wit || "(a native driver: no WIT)";
  const ol = document.getElementById("detail-logs");
  ol.replaceChildren(...d.logs.map(l => { const li = document.createElement("li"); li.textContent = `${new Date(l.time).toLocaleTimeString()} ${l.level} ${l.kind}: ${l.msg}`; return li; }));
}

async function refresh() {
  try {
    const [g, status] = await Promise.all([getJSON("ui/graph"), getJSON("v1/status").catch(() => null)]);
    draw(g, status);
    if (status && status.node && status.node.topology && !document.getElementById("plan-dir").value) {
      document.getElementById("plan-dir").value = status.node.topology.replace(/\/[^/]*$/, "");
    }
  } catch (e) {
    document.getElementById("summary").textContent = "error: " + e.message;
  }
}

async function plan() {
  const out = document.getElementById("plan-out");
  out.textContent = "planning…";
  try {
    const r = await getJSON("v1/plan", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ file: "dashboard.yaml", dir: document.getElementById("plan-dir").value, yaml: document.getElementById("plan-yaml").value }) });
    out.textContent = r.empty ? "nothing would change\n" + r.plan : r.plan;
  } catch (e) {
    out.textContent = "error: " + e.message;
  }
}

function route() {
  // #box=NAME opens a box's details (a link to it can be shared).
  if (location.hash.startsWith("#box=")) showDetail(decodeURIComponent(location.hash.slice(5)));
  const planView = location.hash === "#plan";
  document.getElementById("plan").hidden = !planView;
  document.getElementById("topology").hidden = planView;
  document.getElementById("tab-plan").classList.toggle("active", planView);
  document.getElementById("tab-topology").classList.toggle("active", !planView);
}

document.getElementById("detail-close").addEventListener("click", () => { selected = null; document.getElementById("detail").hidden = true; });
document.getElementById("plan-run").addEventListener("click", plan);
window.addEventListener("hashchange", route);
route();
refresh();
setInterval(refresh, 2000);

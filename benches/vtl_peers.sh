#!/usr/bin/env bash
# vtl_peers.sh: the vtl_render goal's peer comparison, measured in one run on this machine.
#
# Renders the seed StartExecution template against the same ~1 KB body as
# benches/vtl_render.rs with velocityjs (template parsed once; minimal `$input.json` /
# `$util.escapeJavaScript` / `$context.requestId` shims), reports its CPU time per render
# (process.cpuUsage over interleaved rounds), checks its output is byte-identical to
# stepgate's, then runs the vtl_render CPU table (criterion's wall-clock part is filtered
# out). velocityjs is installed with npm into a cache directory on first use.
#
# Usage: benches/vtl_peers.sh          (from the repository root; needs node + npm)
# Env:   PEERS_DIR (npm cache dir, default ${TMPDIR:-/tmp}/stepgate-vtl-peers)
#        CARGO_BENCH_ARGS (extra `cargo bench` arguments, e.g. `--features ...`)
set -euo pipefail

cd "$(dirname "$0")/.."
peers_dir="${PEERS_DIR:-${TMPDIR:-/tmp}/stepgate-vtl-peers}"
mkdir -p "$peers_dir"
if [ ! -d "$peers_dir/node_modules/velocityjs" ]; then
  (cd "$peers_dir" && npm install --silent --no-audit --no-fund velocityjs >/dev/null)
fi
expected="$peers_dir/velocityjs-output.txt"

NODE_PATH="$peers_dir/node_modules" TEMPLATE=templates/start-execution.vtl OUT="$expected" node - <<'JS'
const fs = require('fs');
const { Compile, parse } = require('velocityjs');

// The body of benches/vtl_render.rs::body(): serde_json's pretty printer and
// JSON.stringify(v, null, 2) agree for this document.
const doc = {
  orderId: 'o-2024/11/21-0001',
  customer: { name: "Zoë O'Brien", email: 'zoe@example.com', note: 'said "hi"\nthen left' },
  items: [
    { sku: 'A/1', name: 'Café crème', qty: 2, price: 3.5 },
    { sku: 'B/2', name: 'Tee "classic"', qty: 1, price: 19.99 },
    { sku: 'C/3', name: '日本茶', qty: 3, price: 7.25 },
    { sku: 'D/4', name: "it's ok 😀", qty: 1, price: 0.5 },
  ],
  shipping: { address: "12 Rue de l'Église\n75001 Paris", method: 'express/24h' },
  tags: ['gift', 'fragile', 'north/east', 'ünïcödé'],
  comment: "Line one\nLine two with 'single' and \"double\" quotes / slash\nLine three: naïve façade",
  total: 78.73,
  paid: true,
  coupon: null,
};
let body = JSON.stringify(doc, null, 2);
for (let n = 1; Buffer.byteLength(body) < 1000; n++) {
  body = body.slice(0, body.length - 2) + `,\n  "pad${n}": "/'\\"é"` + body.slice(body.length - 2);
}

// json-smart toJSONString for what this body contains: compact, `/` as `\/`, doubles
// with a `.0` when integral (none here), U+007F..U+009F and U+2000..U+20FF as \uXXXX.
const smart = (s) =>
  s.replace(/\//g, '\\/').replace(/[\u007f-\u009f\u2000-\u20ff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'));
// commons-lang 2.6 escapeJavaScript over UTF-16 code units.
const escapeJavaScript = (s) => {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/') out += '\\/';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7f) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
};

const source = fs.readFileSync(process.env.TEMPLATE, 'utf8');
const compiled = new Compile(parse(source), { escape: false });
const render = () =>
  compiled.render({
    input: { json: (path) => (path === '$' ? smart(JSON.stringify(JSON.parse(body))) : '') },
    util: { escapeJavaScript },
    context: { requestId: '9c3d8aab-1b2c-4d5e-8f90-0123456789ab' },
  });

fs.writeFileSync(process.env.OUT, render());
for (let i = 0; i < 20000; i++) render(); // warm up the JIT
const ROUNDS = 20, ITERS = 2000;
let cpu = 0;
for (let r = 0; r < ROUNDS; r++) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < ITERS; i++) render();
  const d = process.cpuUsage(t0);
  cpu += d.user + d.system;
}
const version = JSON.parse(fs.readFileSync(
  require('path').join(process.env.NODE_PATH, 'velocityjs', 'package.json'), 'utf8')).version;
console.log(`velocityjs ${version} (node ${process.version}) CPU time per pre-parsed render ` +
  `(${ROUNDS} rounds x ${ITERS}): ${(cpu / (ROUNDS * ITERS)).toFixed(2)} µs`);
JS

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
# The filter matches no criterion benchmark, so only the CPU table runs.
# shellcheck disable=SC2086
VTL_PEERS_EXPECTED="$expected" cargo bench ${CARGO_BENCH_ARGS:-} --bench vtl_render -- cpu-table-only 2>/dev/null | grep -v '^$'

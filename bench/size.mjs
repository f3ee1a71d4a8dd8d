// Bundle size: chatwire (wasm + JS glue, via scripts/size.mjs) against the transports a user
// would pick instead, each bundled for the browser by esbuild (--bundle --minify
// --format=esm) from a one-line entry that imports the client's main export, then gzip -9
// and brotli (quality 11) exactly as for chatwire. Writes bench/results/size.json.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { measureChatwire } from "../scripts/size.mjs";

const root = new URL("../", import.meta.url);
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const brotli = (bytes) =>
  brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

/** name → the entry file's text (the client's main export, re-exported so it is kept). */
export const PEERS = {
  "socket.io-client": `export { io } from "socket.io-client";`,
  partysocket: `export { PartySocket } from "partysocket";`,
  "reconnecting-websocket": `export { default } from "reconnecting-websocket";`,
};

function installedVersion(name) {
  const file = new URL(`node_modules/${name}/package.json`, root);
  return JSON.parse(readFileSync(file, "utf8")).version;
}

export async function measurePeer(name) {
  const out = await build({
    stdin: { contents: PEERS[name], resolveDir: root.pathname, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  const js = out.outputFiles[0].contents;
  return { version: installedVersion(name), raw: js.length, gzip: gzip(js), brotli: brotli(js) };
}

/** Where chatwire's bytes go: raw bytes per section of the wasm module (gzip of each is not additive). */
export function wasmSections(bytes) {
  const names = { 0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "data count" };
  const out = {};
  let i = 8;
  const leb = () => {
    let result = 0, shift = 0, b;
    do {
      b = bytes[i++];
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return result >>> 0;
  };
  while (i < bytes.length) {
    const id = bytes[i++];
    const len = leb();
    const name = names[id] ?? `section ${id}`;
    out[name] = (out[name] ?? 0) + len;
    i += len;
  }
  return out;
}

export async function measureAll() {
  const c = await measureChatwire(new URL("pkg/", root));
  const chatwire = {
    version: JSON.parse(readFileSync(new URL("pkg/package.json", root), "utf8")).version,
    raw: c.jsRaw + c.wasmRaw,
    gzip: c.jsGzip + c.wasmGzip,
    brotli: c.jsBrotli + c.wasmBrotli,
    parts: c,
    wasmSections: wasmSections(readFileSync(new URL("pkg/chatwire_bg.wasm", root))),
  };
  const peers = {};
  for (const name of Object.keys(PEERS)) peers[name] = await measurePeer(name);
  return { chatwire, peers };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await measureAll();
  mkdirSync(new URL("bench/results/", root), { recursive: true });
  writeFileSync(new URL("bench/results/size.json", root), JSON.stringify(result, null, 2) + "\n");
  const row = (n, r) =>
    console.log(`${n.padEnd(24)} min ${String(r.raw).padStart(7)}  gzip -9 ${String(r.gzip).padStart(6)}  brotli ${String(r.brotli).padStart(6)}`);
  row("chatwire (wasm + js)", result.chatwire);
  for (const [n, r] of Object.entries(result.peers)) row(`${n} ${r.version}`, r);
}

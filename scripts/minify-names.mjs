// Shortens the wasm-bindgen import names (`__wbg_parse_dd5667aa6ce678a8`, …), their module
// name (`./chatwire_bg.js`) and the hashed closure-invoker export names in
// pkg/chatwire_bg.wasm, and renames them the same way in pkg/chatwire.js.
//
// Those names are random hex that gzip cannot compress and each stands twice in what a
// browser downloads (wasm and glue); this saves about 2 KB gzip. The wasm is otherwise left
// byte for byte as wasm-opt wrote it. Public exports (memory, the class methods) keep
// their names.
import { readFileSync, writeFileSync } from "node:fs";

const MODULE = "./chatwire_bg.js";
const SHORT_MODULE = "w";
// Closure invokers: `…__h<hash>` (older wasm-bindgen) or `wasm_bindgen_<hash>___convert__…`.
const HASHED_EXPORT = /__h[0-9a-f]{16}(_\d+)?$|^wasm_bindgen_[0-9a-f]{16}___/;

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();
const nameBytes = (name) => [...leb(utf8.encode(name).length), ...utf8.encode(name)];

function readName(bytes, at) {
  const [length, start] = readLeb(bytes, at);
  return [text.decode(bytes.subarray(start, start + length)), start + length];
}

function skipLimits(bytes, at) {
  const flags = bytes[at++];
  [, at] = readLeb(bytes, at);
  if (flags & 1) [, at] = readLeb(bytes, at);
  return at;
}

// The length of an import description (what follows the two names).
function skipImportDesc(bytes, at) {
  const kind = bytes[at++];
  switch (kind) {
    case 0x00: // function: type index
      return readLeb(bytes, at)[1];
    case 0x01: // table: reference type, limits
      return skipLimits(bytes, at + 1);
    case 0x02: // memory: limits
      return skipLimits(bytes, at);
    case 0x03: // global: value type, mutability
      return at + 2;
    case 0x04: // tag: attribute, type index
      return readLeb(bytes, at + 1)[1];
    default:
      throw new Error(`minify-names: unknown import kind 0x${kind.toString(16)}`);
  }
}

function shortName(index) {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let name = "";
  do {
    name = alphabet[index % alphabet.length] + name;
    index = Math.floor(index / alphabet.length) - 1;
  } while (index >= 0);
  return name;
}

export function minifyNames(wasm, glue) {
  const renames = new Map();
  const rename = (name) => {
    if (!renames.has(name)) renames.set(name, shortName(renames.size));
    return renames.get(name);
  };
  const out = [...wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, start] = readLeb(wasm, at + 1);
    const end = start + size;
    if (id !== 2 && id !== 7) {
      out.push(...wasm.subarray(at, end));
      at = end;
      continue;
    }
    let cursor = start;
    const [count, first] = readLeb(wasm, cursor);
    cursor = first;
    const body = [...leb(count)];
    for (let i = 0; i < count; i++) {
      if (id === 2) {
        let module, field;
        [module, cursor] = readName(wasm, cursor);
        [field, cursor] = readName(wasm, cursor);
        const descStart = cursor;
        cursor = skipImportDesc(wasm, cursor);
        const keep = module !== MODULE;
        body.push(...nameBytes(keep ? module : SHORT_MODULE), ...nameBytes(keep ? field : rename(field)));
        body.push(...wasm.subarray(descStart, cursor));
      } else {
        let field;
        [field, cursor] = readName(wasm, cursor);
        const descStart = cursor;
        cursor = readLeb(wasm, cursor + 1)[1];
        body.push(...nameBytes(HASHED_EXPORT.test(field) ? rename(field) : field));
        body.push(...wasm.subarray(descStart, cursor));
      }
    }
    out.push(id, ...leb(body.length), ...body);
    at = end;
  }

  let js = glue.replace(`"${MODULE}": import0`, `"${SHORT_MODULE}": import0`);
  for (const [long, short] of renames) {
    // Import keys are `name: function…`; exports are used as `wasm.name`. (The glue's local
    // helper functions that share an export's name are JS identifiers and stay as they are.)
    const key = new RegExp(`(^|[^.\\w$])${long}:`, "gm");
    const member = new RegExp(`\\bwasm\\.${long}\\b`, "g");
    const uses = (js.match(key)?.length ?? 0) + (js.match(member)?.length ?? 0);
    if (uses === 0) throw new Error(`minify-names: ${long} is not used by the glue; is this wasm-bindgen's layout?`);
    js = js.replace(key, `$1${short}:`).replace(member, `wasm.${short}`);
  }
  return { wasm: Uint8Array.from(out), js, renamed: renames.size };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = new URL(process.argv[2] ?? "../pkg/", import.meta.url);
  const wasmPath = new URL("chatwire_bg.wasm", dir);
  const jsPath = new URL("chatwire.js", dir);
  const result = minifyNames(readFileSync(wasmPath), readFileSync(jsPath, "utf8"));
  writeFileSync(wasmPath, result.wasm);
  writeFileSync(jsPath, result.js);
  console.log(`minify-names: ${result.renamed} import/export names shortened`);
}

// Turns wasm-pack's pkg/package.json into the published `chatwire` package: description,
// license, exports and, when js/react.ts exists, the `chatwire/react` entry (compiled here
// with tsc against pkg/chatwire.d.ts so the hook ships with real types).
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const pkgDir = new URL("../pkg/", import.meta.url);

const manifestPath = new URL("package.json", pkgDir);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));

const files = new Set(manifest.files ?? []);
for (const file of ["chatwire_bg.wasm", "chatwire.js", "chatwire.d.ts", "README.md"]) files.add(file);
const exportsMap = {
  ".": { types: "./chatwire.d.ts", default: "./chatwire.js" },
  "./chatwire_bg.wasm": "./chatwire_bg.wasm",
  "./package.json": "./package.json",
};

const hookSource = new URL("../js/react.ts", import.meta.url);
let peers;
if (existsSync(hookSource)) {
  const copied = new URL("react.ts", pkgDir);
  copyFileSync(hookSource, copied);
  execFileSync(
    "tsc",
    ["--declaration", "--target", "ES2020", "--module", "ES2020", "--moduleResolution", "bundler",
     "--strict", "--skipLibCheck", "--jsx", "react-jsx", "--types", "react", "--typeRoots",
     new URL("../www/node_modules/@types", import.meta.url).pathname, "--outDir", pkgDir.pathname,
     copied.pathname],
    { stdio: "inherit" },
  );
  rmSync(copied);
  files.add("react.js");
  files.add("react.d.ts");
  exportsMap["./react"] = { types: "./react.d.ts", default: "./react.js" };
  peers = { react: ">=18" };
}

const finished = {
  name: "chatwire",
  version: manifest.version,
  description:
    "Real-time chat transport for AI apps: a reconnecting, heartbeating WebSocket manager in Rust/WebAssembly with streaming-token dispatch",
  license: manifest.license ?? "MIT OR Apache-2.0",
  type: "module",
  keywords: ["websocket", "wasm", "chat", "streaming", "reconnect", "llm"],
  main: "chatwire.js",
  module: "chatwire.js",
  types: "chatwire.d.ts",
  exports: exportsMap,
  files: [...files],
  sideEffects: ["./snippets/*"],
  ...(peers ? { peerDependencies: peers, peerDependenciesMeta: { react: { optional: true } } } : {}),
  ...(manifest.repository ? { repository: manifest.repository } : {}),
};
writeFileSync(manifestPath, JSON.stringify(finished, null, 2) + "\n");
console.log(`pkg/ ready: ${finished.name}@${finished.version}`);

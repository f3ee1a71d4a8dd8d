// `npm run e2e`: checks that pkg/ and the relay binary exist (it builds no Rust), builds www/
// when its output is older than its sources, then runs the browser tests with node's runner.

import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { CHROMIUM, ROOT, WWW, ensureDevBuild, newestSource, relayBinary } from "./harness.mjs";

function fail(msg) {
  console.error(`e2e: ${msg}`);
  process.exit(1);
}

const pkg = path.join(ROOT, "pkg");
if (!existsSync(path.join(pkg, "package.json"))) fail(`${pkg} is missing: build the client with wasm-pack first`);
if (!existsSync(relayBinary())) fail(`relay binary ${relayBinary()} is missing: run \`cargo build -p chatwire-relay\` or set CHATWIRE_RELAY_BIN`);
if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: WWW, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

if (!existsSync(path.join(WWW, "node_modules", "playwright-core")) || !existsSync(path.join(WWW, "node_modules", "chatwire"))) {
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}
const built = path.join(WWW, "dist", "index.html");
const sources = newestSource();
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.log("e2e: building www/");
  run("npm", ["run", "build"]);
}
ensureDevBuild(); // the StrictMode test serves React's development build

// --preserve-symlinks: `chatwire` is a link to ../pkg, and the server-render test imports
// `chatwire/react`, whose `import "react"` must resolve from www/node_modules, as in an app.
const r = spawnSync(process.execPath, ["--preserve-symlinks", "--test", "--test-reporter=spec", path.join("e2e", "chat.test.mjs")], {
  stdio: "inherit",
  cwd: WWW,
});
process.exit(r.status ?? 1);

// Process plumbing for the e2e tests: free ports, the relay binary, headless Chromium, and a
// registry that kills everything started here when the tests end, pass or fail.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

export const WWW = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(WWW, "..");
export const ARTIFACTS = path.join(ROOT, "target", "e2e");

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function relayBinary() {
  return process.env.CHATWIRE_RELAY_BIN || path.join(ROOT, "target", "debug", "chatwire-relay");
}

/** Children still alive; killed on exit whatever happens. */
const children = new Set();

function killAll() {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers (any HTTP status), or throws after `timeoutMs`. */
async function waitForHttp(url, timeoutMs, child, log) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`relay exited early (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    try {
      await fetch(url, { signal: AbortSignal.timeout(500) });
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`relay did not answer on ${url} within ${timeoutMs} ms:\n${log()}`);
}

/**
 * Starts the relay on `port` with `env` added to ours; resolves once it serves HTTP.
 * @returns {Promise<{ port: number, url: string, child: import("node:child_process").ChildProcess, output: () => string, stop: (signal?: NodeJS.Signals) => Promise<void> }>}
 */
export async function startRelay({ port, env = {} }) {
  const bin = relayBinary();
  if (!existsSync(bin)) {
    throw new Error(`relay binary not found at ${bin}: run \`cargo build -p chatwire-relay\` or set CHATWIRE_RELAY_BIN`);
  }
  const child = spawn(bin, [], {
    cwd: ROOT,
    env: {
      ...process.env,
      RELAY_ADDR: `127.0.0.1:${port}`,
      RELAY_STATIC_DIR: path.join(WWW, "dist"),
      RELAY_PKG_DIR: path.join(ROOT, "pkg"),
      RUST_LOG: process.env.RUST_LOG || "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  const keep = (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
    if (process.env.E2E_VERBOSE) process.stderr.write(`[relay] ${d}`);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((r) => child.once("exit", r));
  exited.then(() => children.delete(child));

  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 15_000, child, () => out);
  return {
    port,
    url,
    child,
    output: () => out,
    async stop(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Launches Debian's Chromium through playwright-core (never a downloaded browser). */
export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export function artifactPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

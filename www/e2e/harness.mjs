// Process plumbing for the e2e tests: free ports, the relay binary, headless Chromium, and a
// registry that kills everything started here when the tests end, pass or fail.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
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

/** The debug relay `cargo build -p chatwire-relay` made: under CARGO_TARGET_DIR when set. */
export function relayBinary() {
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(ROOT, "target");
  return process.env.CHATWIRE_RELAY_BIN || path.resolve(ROOT, targetDir, "debug", "chatwire-relay");
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

/**
 * Starts `bin` with `env` added to ours and keeps its output (the last 100 KB or so);
 * `stop(signal)` signals it and resolves with its exit code (`null` when a signal ended it).
 */
function startChild(name, bin, args, env = {}) {
  const child = spawn(bin, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  const keep = (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${d}`);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((r) => child.once("exit", r));
  exited.then(() => children.delete(child));
  return {
    child,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
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
 * @returns {Promise<{ port: number, url: string, child: import("node:child_process").ChildProcess, output: () => string, stop: (signal?: NodeJS.Signals) => Promise<number | null> }>}
 */
export async function startRelay({ port, env = {} }) {
  const bin = relayBinary();
  if (!existsSync(bin)) {
    throw new Error(`relay binary not found at ${bin}: run \`cargo build -p chatwire-relay\` or set CHATWIRE_RELAY_BIN`);
  }
  const relay = startChild("relay", bin, [], {
    RELAY_ADDR: `127.0.0.1:${port}`,
    RELAY_STATIC_DIR: path.join(WWW, "dist"),
    RELAY_PKG_DIR: path.join(ROOT, "pkg"),
    RUST_LOG: process.env.RUST_LOG || "info",
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 15_000, relay.child, relay.output);
  return {
    ...relay,
    port,
    url,
    /** Signals the relay (SIGKILL unless told) and resolves with its exit code. */
    stop: (signal = "SIGKILL") => relay.stop(signal),
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

/** Newest modification time of the files under `p`, ignoring node_modules. */
export function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(p)) if (e !== "node_modules") m = Math.max(m, newestMtime(path.join(p, e)));
  return m;
}

/** Newest input of the www build: the app's sources and the package it imports. */
export function newestSource() {
  return Math.max(
    newestMtime(path.join(WWW, "src")),
    newestMtime(path.join(WWW, "index.html")),
    newestMtime(path.join(WWW, "vite.config.ts")),
    newestMtime(path.join(ROOT, "pkg")),
  );
}

/** Where the development build (React's dev runtime, so StrictMode double-mounts) goes. */
export const DEV_DIST = path.join(ARTIFACTS, "dist-dev");

/** Builds the development variant of the page into DEV_DIST unless it is up to date. */
export function ensureDevBuild() {
  const index = path.join(DEV_DIST, "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource()) return DEV_DIST;
  const vite = path.join(WWW, "node_modules", "vite", "bin", "vite.js");
  const r = spawnSync(
    process.execPath,
    [vite, "build", "--mode", "development", "--outDir", DEV_DIST, "--emptyOutDir", "--logLevel", "warn"],
    { cwd: WWW, env: { ...process.env, NODE_ENV: "development" }, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`development build failed:\n${r.stdout}\n${r.stderr}`);
  return DEV_DIST;
}

/**
 * A TCP proxy to `127.0.0.1:targetPort` whose connections can be cut at once, as a mobile
 * network or a proxy timeout cuts them: `cut()` destroys every open connection (both sides),
 * so the browser sees its WebSocket drop (1006) while the relay sees a reset.
 */
export async function startCutProxy(targetPort) {
  const open = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = [client, upstream];
    open.add(pair);
    const close = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    /** Destroys every connection open now; returns how many. */
    cut() {
      const n = open.size;
      for (const [client, upstream] of [...open]) {
        client.resetAndDestroy?.() ?? client.destroy();
        upstream.destroy();
      }
      open.clear();
      return n;
    },
    /** Stops listening and cuts what is still open (server.close() alone waits for it). */
    close() {
      const closed = new Promise((resolve) => server.close(() => resolve()));
      this.cut();
      return closed;
    },
  };
}

/** Waits until something accepts TCP connections on 127.0.0.1:`port`. */
async function waitForPort(port, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
}

/** Debian's redis-server on a free port, persistence off (scripts/setup.sh installs it). */
export async function startRedis() {
  const bin = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((p) => existsSync(p));
  if (!bin) throw new Error("redis-server is missing: apt-get install -y redis-server (scripts/setup.sh test does)");
  const port = await freePort();
  const redis = startChild("redis", bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  await waitForPort(port, 10_000, "redis-server");
  return { ...redis, url: `redis://127.0.0.1:${port}/0` };
}

/**
 * Debian's HAProxy in front of relays on `ports`: every connection goes to the first one up
 * (`balance first`), a relay that is down is skipped (health checks every 100 ms, and a
 * refused connection is redispatched to the next).
 */
export async function startBalancer(ports) {
  const bin = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].find((p) => existsSync(p));
  if (!bin) throw new Error("haproxy is missing: apt-get install -y haproxy (scripts/setup.sh test does)");
  const port = await freePort();
  const config = path.join(ARTIFACTS, `haproxy-${port}.cfg`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const servers = ports.map((p, i) => `  server relay${i} 127.0.0.1:${p} check inter 100ms fall 1 rise 1`).join("\n");
  writeFileSync(
    config,
    `defaults
  mode http
  retries 3
  option redispatch
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout tunnel 60s
frontend chat
  bind 127.0.0.1:${port}
  default_backend relays
backend relays
  balance first
  option httpchk GET /healthz
${servers}
`,
  );
  const balancer = startChild("haproxy", bin, ["-db", "-f", config]);
  await waitForPort(port, 10_000, "haproxy");
  return { ...balancer, url: `http://127.0.0.1:${port}` };
}

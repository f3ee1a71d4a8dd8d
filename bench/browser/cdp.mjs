// A minimal Chrome DevTools Protocol driver for the browser benchmarks.
//
// Why not Playwright here: Playwright enables the CDP Network domain on every page and
// worker, so Chromium reports every WebSocket frame (payload included) to the driver. That
// caps any page at about 17,000 frames/s on the benchmark machine (a bare `new WebSocket`
// that only counts frames measured 17.5k/s under Playwright, 55k/s without it) and hides
// the very dispatch cost being measured. This driver only uses Runtime and HeapProfiler.
// It launches the system Chromium (never downloads one) with the flags the project uses.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const LAUNCH_TIMEOUT_MS = 30_000;

/** Launches Chromium on `url`; resolves to { version, send, evaluate, onConsole, onEvent, close }. */
export async function launch(url, executablePath = "/usr/bin/chromium") {
  const profile = mkdtempSync(join(tmpdir(), "chatwire-bench-"));
  const proc = spawn(
    executablePath,
    [...CHROMIUM_ARGS, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", `--user-data-dir=${profile}`, url],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  const cleanup = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    try {
      // Chromium's helpers may still be writing their last files for a moment.
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      console.error(`bench: could not remove ${profile}: ${e.message}`);
    }
  };
  try {
    const browserWs = await new Promise((resolve, reject) => {
      let text = "";
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${text.slice(-500)}`)), LAUNCH_TIMEOUT_MS);
      proc.stderr.on("data", (chunk) => {
        text += chunk;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      proc.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${text.slice(-500)}`)));
    });
    const port = new URL(browserWs).port;
    const deadline = Date.now() + LAUNCH_TIMEOUT_MS;
    let target;
    while (!target) {
      if (Date.now() > deadline) throw new Error("no page target");
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      target = list.find((t) => t.type === "page" && t.url.startsWith(url));
      if (!target) await new Promise((r) => setTimeout(r, 100));
    }
    const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()).Browser;
    const socket = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 256 << 20 });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    let nextId = 0;
    const pending = new Map();
    const listeners = [];
    socket.on("message", (data) => {
      const msg = JSON.parse(data);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result);
      } else {
        for (const l of listeners) l(msg);
      }
    });
    socket.on("close", () => {
      for (const p of pending.values()) p.reject(new Error("CDP connection closed"));
      pending.clear();
    });
    const send = (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject, method });
        socket.send(JSON.stringify({ id, method, params }));
      });
    /** Evaluates `expression` (awaiting a Promise) and returns its JSON value. */
    const evaluate = async (expression) => {
      const r = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) {
        const d = r.exceptionDetails;
        throw new Error(`page: ${d.exception?.description ?? d.text}`);
      }
      return r.result.value;
    };
    const onConsole = (fn) =>
      listeners.push((msg) => {
        if (msg.method === "Runtime.consoleAPICalled") {
          fn(msg.params.type, msg.params.args.map((a) => a.value ?? a.description).join(" "));
        } else if (msg.method === "Runtime.exceptionThrown") {
          fn("exception", msg.params.exceptionDetails.exception?.description ?? msg.params.exceptionDetails.text);
        }
      });
    /** Calls `fn(params)` for every CDP event named `method`. */
    const onEvent = (method, fn) => listeners.push((msg) => msg.method === method && fn(msg.params));
    await send("Runtime.enable");
    return {
      version,
      send,
      evaluate,
      onConsole,
      onEvent,
      close: async () => {
        socket.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Polls `expression` in the page every 100 ms until it is true; throws `message` after `timeoutMs`. */
export async function waitFor(browser, expression, message, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await browser.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A full garbage collection in the page. Twice: the first pass can leave finalizer-held objects (wasm-bindgen's FinalizationRegistry) for the second. */
export async function collectGarbage(browser) {
  await browser.send("HeapProfiler.collectGarbage");
  await browser.evaluate("new Promise((r) => setTimeout(r, 50))");
  await browser.send("HeapProfiler.collectGarbage");
}

// The benchmark page: runs floods and connect/close cycles through chatwire's
// ChatWebSocketManager or the seed-style SeedManager and reports counts and timings.
// Driven by bench/browser/run.mjs through `window.bench`.
import init, { ChatWebSocketManager } from "/pkg/chatwire.js";
import { SeedManager } from "./seed-manager.js";
import { FakeWebSocket } from "./fake-socket.js";

const wasm = await init();
const wsBase = `ws://${location.host}`;
/** No single flood or cycle batch may run longer than this. */
const RUN_TIMEOUT_MS = 120_000;

/**
 * The floor Chromium itself sets: a bare WebSocket that parses nothing, tells frames apart by
 * their first bytes and hands the callback a constant frame. What a manager adds per frame is
 * its time above this.
 */
class BareSocket {
  constructor(sessionId) {
    this.url = `${wsBase}/ws/chat/${sessionId}/?token=bench`;
    this.onStreamToken = undefined;
    this.onStreamComplete = undefined;
    this.onError = undefined;
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url);
      this.ws.onopen = () => resolve();
      this.ws.onerror = (e) => reject(e);
      this.ws.onmessage = (event) => {
        if (event.data.startsWith('{"type":"stream_token"')) this.onStreamToken(BARE_FRAME);
        else this.onStreamComplete();
      };
    });
  }

  disconnect() {
    this.ws.onmessage = null;
    this.ws.close();
  }
}
const BARE_FRAME = { data: { token: "tok" } };

function makeManager(kind, sessionId) {
  if (kind === "bare") return new BareSocket(sessionId);
  if (kind === "chatwire") {
    return new ChatWebSocketManager(sessionId, "bench", { url: wsBase, heartbeatIntervalMs: 0 });
  }
  if (kind === "chatwire-async-token") {
    // The token through a promise: the closures awaiting it are handed to JS, which frees them.
    return new ChatWebSocketManager(sessionId, () => Promise.resolve("bench"), { url: wsBase, heartbeatIntervalMs: 0 });
  }
  return new SeedManager(sessionId, "bench", wsBase);
}

function release(kind, m) {
  m.disconnect();
  if (kind.startsWith("chatwire")) m.free();
}

let runs = 0;

const NativeWebSocket = globalThis.WebSocket;

/**
 * Receives a flood of `total` stream_token frames (perMessage tokens per message, 0: one
 * message) and resolves to { frames, ms, fps, chars } timed from the first to the last
 * token as the callback sees them. `transport` is "fake" (the in-page FakeWebSocket: what
 * the manager costs per frame) or "socket" (a real WebSocket to the benchmark server).
 */
function flood(kind, total, perMessage, transport = "fake") {
  const messages = perMessage > 0 ? Math.ceil(total / perMessage) : 1;
  // Every manager opens its socket with `new WebSocket(url)` inside connect(), so the
  // global decides which transport it gets.
  globalThis.WebSocket = transport === "fake" ? FakeWebSocket : NativeWebSocket;
  const m = makeManager(kind, `flood-${total}-${perMessage}-${kind}${++runs}`);
  return new Promise((resolve, reject) => {
    let frames = 0;
    let chars = 0; // what a UI does with a token: read it
    let t0 = 0;
    let t1 = 0;
    let completes = 0;
    const timer = setTimeout(() => {
      release(kind, m);
      reject(new Error(`${kind}: flood timed out after ${frames} frames`));
    }, RUN_TIMEOUT_MS);
    m.onStreamToken = (frame) => {
      if (frames === 0) t0 = performance.now();
      chars += frame.data.token.length;
      if (++frames === total) t1 = performance.now();
    };
    m.onStreamComplete = () => {
      if (++completes < messages) return;
      clearTimeout(timer);
      release(kind, m);
      const ms = t1 - t0;
      resolve({ frames, ms, fps: ((frames - 1) * 1000) / ms, chars });
    };
    m.onError = (frame) => {
      clearTimeout(timer);
      release(kind, m);
      reject(new Error(`${kind}: error frame ${JSON.stringify(frame)}`));
    };
    const connecting = m.connect();
    globalThis.WebSocket = NativeWebSocket;
    connecting.catch((e) => {
      clearTimeout(timer);
      reject(new Error(`${kind}: connect failed: ${e}`));
    });
  });
}

/** `count` sequential connect → disconnect (→ free) cycles against the silent endpoint. */
async function cycles(kind, count) {
  const deadline = performance.now() + RUN_TIMEOUT_MS;
  for (let i = 0; i < count; i++) {
    if (performance.now() > deadline) throw new Error(`${kind}: cycles timed out at ${i}`);
    const m = makeManager(kind, `idle-${kind}${++runs}`);
    await m.connect();
    release(kind, m);
  }
  // Let the last close handshakes finish before anything is measured.
  await new Promise((r) => setTimeout(r, 200));
  return count;
}

window.bench = {
  flood,
  cycles,
  wasmMemoryBytes: () => wasm.memory.buffer.byteLength,
};
window.benchReady = true;

// A manager's own cost per frame, without the fake socket's: the page captures each manager's
// `message` listener from a stand-in socket and calls it in a loop with pre-made events (the
// flood's stream_token frames). In the dispatch flood (./fake-socket.js) about 4.5 µs of
// each frame's 5 to 6 is the stand-in making and dispatching a MessageEvent, the same for
// every manager; here only the manager's own work is timed. Driven by ./manager-cost.mjs.
import init, { ChatWebSocketManager } from "/pkg/chatwire.js";
import { SeedManager } from "./seed-manager.js";
import { floodFrames } from "./flood-frames.js";

await init();

/** A WebSocket that opens at once, sends nothing and keeps the `message` listener it gets. */
class CapturingSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
  static last;

  constructor(url) {
    super();
    this.url = String(url);
    this.readyState = CapturingSocket.CONNECTING;
    this.messageListener = undefined;
    CapturingSocket.last = this;
    setTimeout(() => {
      this.readyState = CapturingSocket.OPEN;
      this.dispatchEvent(new Event("open"));
    });
  }

  addEventListener(type, listener, options) {
    if (type === "message") this.messageListener = listener;
    super.addEventListener(type, listener, options);
  }

  set onopen(listener) { this.addEventListener("open", listener); }
  set onmessage(listener) { this.messageListener = listener; }
  set onclose(_) {}
  set onerror(_) {}
  send() {}
  close() { this.readyState = CapturingSocket.CLOSED; }
}

const MAX_FRAMES = 200_000;
/** One message's stream_token frames as `message` events, made once. */
const events = [...floodFrames(MAX_FRAMES, 0)].slice(0, MAX_FRAMES).map((data) => ({ type: "message", data }));

/** µs per frame of `kind`'s listener over `frames` stream_token frames. */
async function cost(kind, frames) {
  const NativeWebSocket = globalThis.WebSocket;
  globalThis.WebSocket = CapturingSocket;
  const m = kind === "chatwire"
    ? new ChatWebSocketManager("cost", "bench", { url: "ws://127.0.0.1:9", heartbeatIntervalMs: 0 })
    : new SeedManager("cost", "bench", "ws://127.0.0.1:9");
  const connected = m.connect();
  globalThis.WebSocket = NativeWebSocket;
  await connected;
  const listener = CapturingSocket.last.messageListener;
  let seen = 0;
  let chars = 0; // what a UI does with a token: read it
  m.onStreamToken = (frame) => {
    seen++;
    chars += frame.data.token.length;
  };
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) listener(events[i]);
  const ms = performance.now() - t0;
  m.disconnect();
  if (kind === "chatwire") m.free();
  if (seen !== frames) throw new Error(`${kind}: ${seen} of ${frames} frames reached onStreamToken`);
  return (ms * 1000) / frames;
}

window.managerCost = { cost, maxFrames: MAX_FRAMES };
window.managerCostReady = true;

// A WebSocket stand-in inside the page, for measuring what a manager costs per frame on the
// main thread. A real socket caps every manager at the browser's own delivery rate (about
// 50k frames/s here), which measures the harness, not the manager; this one hands frames
// over as fast as the page takes them, as MessageEvents, a batch per task.
//
// It plays the benchmark server's `flood-{N}-{perMessage}-{run}` sessions
// (bench/browser/server.mjs) with the same frames, and accepts any other session silently.

import { floodFrames } from "./flood-frames.js";

const BATCH = 1024;

/** Runs `callback` in a new task without setTimeout's 4 ms clamp. */
const nextTask = (() => {
  const channel = new MessageChannel();
  const queue = [];
  channel.port1.onmessage = () => queue.shift()();
  return (callback) => {
    queue.push(callback);
    channel.port2.postMessage(null);
  };
})();

export class FakeWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  /** The `on…` event handler properties, each a listener as in a browser. */
  #handlers = {};

  constructor(url) {
    super();
    this.url = String(url);
    this.readyState = FakeWebSocket.CONNECTING;
    const flood = /\/ws\/chat\/flood-(\d+)-(\d+)-/.exec(this.url);
    nextTask(() => {
      if (this.readyState !== FakeWebSocket.CONNECTING) return;
      this.readyState = FakeWebSocket.OPEN;
      this.#emit(new Event("open"));
      if (flood) this.#play(floodFrames(Number(flood[1]), Number(flood[2])));
    });
  }

  /** Delivers `event` as a browser does: one dispatch reaches the `on…` handler and the
   *  listeners alike. */
  #emit(event) {
    this.dispatchEvent(event);
  }

  #setHandler(type, handler) {
    const old = this.#handlers[type];
    if (old) this.removeEventListener(type, old);
    this.#handlers[type] = typeof handler === "function" ? handler : null;
    if (this.#handlers[type]) this.addEventListener(type, this.#handlers[type]);
  }

  get onopen() { return this.#handlers.open ?? null; }
  set onopen(handler) { this.#setHandler("open", handler); }
  get onmessage() { return this.#handlers.message ?? null; }
  set onmessage(handler) { this.#setHandler("message", handler); }
  get onclose() { return this.#handlers.close ?? null; }
  set onclose(handler) { this.#setHandler("close", handler); }
  get onerror() { return this.#handlers.error ?? null; }
  set onerror(handler) { this.#setHandler("error", handler); }

  #play(frames) {
    for (let i = 0; i < BATCH; i++) {
      if (this.readyState !== FakeWebSocket.OPEN) return;
      const next = frames.next();
      if (next.done) return;
      this.#emit(new MessageEvent("message", { data: next.value }));
    }
    nextTask(() => this.#play(frames));
  }

  send() {}

  close(code = 1000) {
    if (this.readyState >= FakeWebSocket.CLOSING) return;
    this.readyState = FakeWebSocket.CLOSED;
    nextTask(() => this.#emit(new CloseEvent("close", { code, wasClean: true })));
  }
}

// Tests the package exactly as shipped (pkg/: the no_std release build, wasm-opt'd) in
// Node, with the `ws` package standing in for the browser's WebSocket, against the scripted
// test server. The browser suites (tests/web.rs) cover
// behaviour in depth; this checks the artifact users install.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { WebSocket } from "ws";

// Browsers drop an unhandled WebSocket `error` event; ws's EventEmitter would throw it.
globalThis.WebSocket = class extends WebSocket {
  constructor(...args) {
    super(...args);
    this.on("error", () => {});
  }
};
const root = new URL("../../", import.meta.url);
const chatwire = await import(new URL("pkg/chatwire.js", root));
await chatwire.default({ module_or_path: readFileSync(new URL("pkg/chatwire_bg.wasm", root)) });

let server;
let url;
before(async () => {
  server = spawn(process.execPath, [new URL("tests/server/ws-server.mjs", root).pathname, "0"]);
  const [line] = await once(server.stdout, "data");
  url = `ws://127.0.0.1:${/listening (\d+)/.exec(line.toString())[1]}`;
});
after(() => server.kill());

let sessions = 0;
function manager(kind, options = {}) {
  const m = new chatwire.ChatWebSocketManager(`${kind}-shipped-${++sessions}`, "tok", {
    url,
    baseDelayMs: 10,
    ...options,
  });
  const seen = { states: [], unknown: [], errors: [], complete: [], tokens: [] };
  m.onStateChange = (s) => seen.states.push(s);
  m.onUnknown = (f) => seen.unknown.push(f);
  m.onError = (f) => seen.errors.push(f.data.code);
  m.onStreamComplete = (f) => seen.complete.push(f);
  m.onStreamToken = (f) => seen.tokens.push(f.data.token);
  return { m, seen };
}

async function until(what, condition) {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("connects, streams, accumulates and disconnects", async () => {
  const { m, seen } = manager("echo");
  await m.connect();
  assert.equal(m.state, "open");
  await until("hello", () => seen.unknown.length === 1);
  assert.equal(seen.unknown[0].data.token, "tok");
  m.sendMessage({ type: "script", data: { action: "stream", message_id: "m1", tokens: ["Hel", "lo"] } });
  await until("completion", () => seen.complete.length === 1);
  assert.deepEqual(seen.tokens, ["Hel", "lo"]);
  assert.equal(seen.complete[0].data.content, "Hello");
  const id = m.sendChat("hi", "c1");
  await until("echo", () => seen.unknown.length === 2);
  assert.equal(seen.unknown[1].data.data.client_message_id, id);
  m.disconnect();
  assert.deepEqual(seen.states, ["connecting", "open", "closed"]);
  m.free();
});

test("reconnects after a drop, and queues while away", async () => {
  const { m, seen } = manager("echo");
  await m.connect();
  m.sendMessage({ type: "script", data: { action: "drop" } });
  await until("reconnecting", () => m.state === "reconnecting");
  assert.equal(m.sendMessage({ type: "note", data: { n: 1 } }), false);
  await until("second hello and the flushed echo", () => seen.unknown.length === 3);
  assert.equal(seen.unknown[2].data.data.n, 1);
  m.disconnect();
  m.free();
});

test("gives up with reconnect_failed and rejects connect()", async () => {
  const { m, seen } = manager("down", { maxReconnectAttempts: 1 });
  await assert.rejects(m.connect(), (error) => error.code === "reconnect_failed");
  assert.equal(m.state, "failed");
  assert.deepEqual(seen.errors, ["reconnect_failed"]);
  m.free();
});

test("bad frames and bad input give clear errors", async () => {
  const { m, seen } = manager("echo");
  await m.connect();
  m.sendMessage({ type: "script", data: { action: "send", frames: ["nope", { type: "pong" }] } });
  await until("bad_frame", () => seen.errors.length === 1);
  assert.deepEqual(seen.errors, ["bad_frame"]);
  assert.throws(() => m.sendMessage({ data: 1 }), TypeError);
  assert.throws(() => (m.onPong = 5), TypeError);
  assert.throws(() => new chatwire.ChatWebSocketManager("s", "t", { jitter: 3 }), /jitter/);
  m.disconnect();
  m.free();
});

test("an async token function is awaited before every attempt", async () => {
  let calls = 0;
  const token = () => new Promise((resolve) => setTimeout(() => resolve(`t${++calls}`), 5));
  const m = new chatwire.ChatWebSocketManager(`echo-shipped-${++sessions}`, token, { url, baseDelayMs: 10 });
  const hellos = [];
  m.onUnknown = (f) => f.type === "hello" && hellos.push(f.data.token);
  await m.connect();
  await until("hello", () => hellos.length === 1);
  m.sendMessage({ type: "script", data: { action: "drop" } });
  await until("second hello", () => hellos.length === 2);
  assert.deepEqual(hellos, ["t1", "t2"]);
  m.disconnect();
  m.free();
});

test("a silent server is detected by the heartbeat and reconnected", async () => {
  const { m, seen } = manager("silent", { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 30 });
  await m.connect();
  await until("reconnect after the missed pong", () => seen.states.includes("reconnecting"));
  await until("open again", () => m.state === "open");
  m.disconnect();
  assert.equal(m.state, "closed");
  m.free();
});

test("auth refusal and an invalid url end in closed with their codes", async () => {
  const { m, seen } = manager("close4401");
  await m.connect().catch(() => {});
  await until("unauthorized", () => seen.errors.includes("unauthorized"));
  assert.equal(m.state, "closed");
  m.free();
  const bad = manager("echo", { url: "ws://h?x=1" });
  await assert.rejects(bad.m.connect(), (error) => error.code === "invalid_url");
  assert.deepEqual(bad.seen.errors, ["invalid_url"]);
  bad.m.free();
});

test("freeing a manager while its token promise is pending leaves no error behind", async () => {
  const problems = [];
  const record = (error) => problems.push(error);
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
  try {
    let release;
    const token = () => new Promise((resolve) => (release = resolve));
    const m = new chatwire.ChatWebSocketManager(`echo-shipped-${++sessions}`, token, { url });
    m.connect().catch(() => {});
    await until("the token function to be called", () => release !== undefined);
    m.free();
    release("late-token");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(problems, []);
  } finally {
    process.off("unhandledRejection", record);
    process.off("uncaughtException", record);
  }
});

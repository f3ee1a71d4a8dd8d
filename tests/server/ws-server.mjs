// A scripted WebSocket server for chatwire's browser tests.
//
// Behaviour is chosen by the session id's prefix (the part before the first "-"):
//   echo     sends {type:"hello", data:{connection, token, session}} on connect, answers
//            pings with pongs, echoes other frames as {type:"echo", data:<frame>} and obeys
//            {type:"script", data:{action, ...}} commands (see `runScript` below)
//   silent   sends hello, then never answers anything (heartbeat tests)
//   down     refuses every upgrade with HTTP 503 (the socket never opens; client sees 1006)
//   flaky3   refuses the first 2 upgrades the same way, then behaves like echo
//   close4401 / close4403 / close1008   closes with that code right after the upgrade
//   resume-N / lost-N / expired-N   a relay with resumable replies (see `Generation` below):
//            each chat_message streams a 20-token reply, one token every 5 ms, with
//            offsets; the first connection of the session is dropped after N tokens. On
//            `resume`, `resume` answers `resumed` and the frames from two before the client's
//            offset (duplicates the client must drop), then the live ones; `lost` answers
//            recovered:false; `expired` answers recovered:false and a stream_expired error.
//
// Usage: node tests/server/ws-server.mjs [port]   (prints "listening <port> <port2>" when ready)
//
// The same endpoints are served on a second port (port + 1, or any free port for port 0):
// tests of refused upgrades use it, because Firefox delays further WebSocket attempts to a
// host:port after repeated failures (network.websocket.delay-failed-reconnects), which
// would slow unrelated tests sharing the first port.
import { WebSocketServer } from "ws";

const port = Number(process.argv[2] ?? process.env.CHATWIRE_TEST_PORT ?? 0);
const connections = new Map();
const attempts = new Map();
const sessionOf = (url) => {
  const match = /^\/ws\/chat\/([^/]+)\/$/.exec(new URL(url, "http://localhost").pathname);
  return match ? decodeURIComponent(match[1]) : null;
};

// Upgrades refused here never reach "connection": the browser sees a failed handshake.
function verifyClient({ req }, accept) {
  const session = sessionOf(req.url) ?? "";
  const attempt = (attempts.get(session) ?? 0) + 1;
  attempts.set(session, attempt);
  const kind = session.split("-")[0];
  if (kind === "down" || (kind === "flaky3" && attempt < 3)) accept(false, 503, "test refusal");
  else accept(true);
}

const wss = new WebSocketServer({ port, host: "127.0.0.1", verifyClient });
const second = new WebSocketServer({ port: port ? port + 1 : 0, host: "127.0.0.1", verifyClient });

for (const server of [wss, second]) server.on("connection", onConnection);

function onConnection(ws, request) {
  const session = sessionOf(request.url);
  if (session === null) {
    ws.close(4404, "no such endpoint");
    return;
  }
  const token = new URL(request.url, "http://localhost").searchParams.get("token");
  const count = (connections.get(session) ?? 0) + 1;
  connections.set(session, count);
  const kind = session.split("-")[0];
  const hello = () => send(ws, { type: "hello", data: { connection: count, token, session } });

  const refusal = /^close(\d{4})$/.exec(kind);
  if (refusal) {
    ws.close(Number(refusal[1]), "refused by test server");
    return;
  }
  hello();
  if (kind === "silent") return;
  if (["resume", "lost", "expired"].includes(kind)) {
    resumable(ws, session, kind, count);
    return;
  }

  ws.on("message", (raw) => {
    let frame;
    try {
      frame = JSON.parse(raw.toString());
    } catch {
      send(ws, { type: "echo_error", data: { raw: raw.toString() } });
      return;
    }
    if (frame.type === "ping") send(ws, { type: "pong", data: frame.data ?? {} });
    else if (frame.type === "script") runScript(ws, frame.data);
    else send(ws, { type: "echo", data: frame });
  });
}

function send(ws, frame) {
  ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
}

// Script actions:
//   {action:"send", frames:[string | object, ...]}  send each (strings raw, as given)
//   {action:"close", code}                          close with that code
//   {action:"drop"}                                 drop the TCP connection (client sees 1006)
//   {action:"stream", message_id, tokens:[...], content?}  stream_token frames then
//                                                    stream_complete (content only if given)
//   {action:"big", bytes}                           one stream_token whose token is `bytes`
//                                                    long, then its stream_complete
//   {action:"burst", count}                         `count` stream_token frames at once,
//                                                    then a stream_complete
function runScript(ws, script) {
  switch (script.action) {
    case "send":
      for (const frame of script.frames) send(ws, frame);
      break;
    case "close":
      ws.close(script.code, "scripted close");
      break;
    case "drop":
      ws.terminate();
      break;
    case "stream": {
      script.tokens.forEach((token, seq) =>
        send(ws, { type: "stream_token", data: { message_id: script.message_id, token, seq } }),
      );
      const data = { message_id: script.message_id, finish_reason: "stop" };
      if (script.content !== undefined) data.content = script.content;
      send(ws, { type: "stream_complete", data });
      break;
    }
    case "big": {
      const token = "x".repeat(script.bytes);
      send(ws, { type: "stream_token", data: { message_id: "big", token, seq: 0 } });
      send(ws, { type: "stream_complete", data: { message_id: "big", finish_reason: "stop" } });
      break;
    }
    case "burst": {
      for (let seq = 0; seq < script.count; seq++) {
        ws.send(`{"type":"stream_token","data":{"message_id":"burst","token":"t","seq":${seq},"offset":${seq + 1}}}`);
      }
      send(ws, { type: "stream_complete", data: { message_id: "burst", finish_reason: "stop", offset: script.count + 1 } });
      break;
    }
    default:
      send(ws, { type: "echo_error", data: { unknown_action: script.action } });
  }
}

// ---------------------------------------------------------------- resumable replies

const TOKENS = 20;
const generations = new Map(); // session -> Generation

/** A reply that goes on while its socket is gone, keeping every frame for a resume. */
class Generation {
  constructor(session, request) {
    this.messageId = `msg-${session}`;
    this.clientMessageId = request.client_message_id;
    this.conversationId = request.conversation_id ?? `conv-${session}`;
    this.frames = [];
    this.watcher = null;
    let seq = 0;
    const timer = setInterval(() => {
      if (seq < TOKENS) {
        const data = { message_id: this.messageId, token: `t${seq} `, seq: seq++ };
        // The first frame of a generation names the chat it answers, as the relay does.
        if (seq === 1) data.client_message_id = this.clientMessageId;
        this.emit("stream_token", data);
        return;
      }
      clearInterval(timer);
      const content = Array.from({ length: TOKENS }, (_, i) => `t${i} `).join("");
      this.emit("stream_complete", {
        message_id: this.messageId,
        conversation_id: this.conversationId,
        client_message_id: this.clientMessageId,
        content,
        finish_reason: "stop",
      });
    }, 5);
  }

  emit(type, data) {
    const frame = JSON.stringify({ type, data: { ...data, offset: this.frames.length + 1 } });
    this.frames.push(frame);
    if (this.watcher?.readyState === 1) this.watcher.send(frame);
  }

  ids() {
    return {
      message_id: this.messageId,
      client_message_id: this.clientMessageId,
      conversation_id: this.conversationId,
    };
  }
}

function resumable(ws, session, kind, connection) {
  const dropAfter = Number(session.split("-")[1] ?? 5);
  const answer = (ids, offset) => {
    const generation = generations.get(session);
    if (kind !== "resume" || !generation) {
      send(ws, { type: "resumed", data: { ...ids, offset, recovered: false } });
      if (kind === "expired") {
        send(ws, {
          type: "error",
          data: { code: "stream_expired", message: "expired", ...ids, retryable: false },
        });
      }
      return;
    }
    send(ws, { type: "resumed", data: { ...generation.ids(), offset, recovered: true } });
    // Two frames the client already applied, as a relay may send them again.
    for (const frame of generation.frames.slice(Math.max(0, offset - 2))) ws.send(frame);
    generation.watcher = ws;
  };
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString());
    if (frame.type === "ping") send(ws, { type: "pong", data: frame.data ?? {} });
    else if (frame.type === "resume") answer(frame.data, frame.data.offset ?? 0);
    else if (frame.type === "chat_message") {
      const known = generations.get(session);
      if (known && known.clientMessageId === frame.data.client_message_id) {
        answer({ client_message_id: known.clientMessageId }, 0);
        return;
      }
      const generation = new Generation(session, frame.data);
      generations.set(session, generation);
      generation.watcher = ws;
      if (connection === 1) {
        const drop = setInterval(() => {
          if (generation.frames.length < dropAfter) return;
          clearInterval(drop);
          if (kind !== "resume") generations.delete(session);
          ws.terminate();
        }, 1);
      }
    }
  });
}

Promise.all([wss, second].map((server) => new Promise((resolve) => server.on("listening", resolve)))).then(() => {
  console.log(`listening ${wss.address().port} ${second.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => second.close(() => wss.close(() => process.exit(0))));
}

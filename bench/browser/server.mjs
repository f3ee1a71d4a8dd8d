// The browser benchmarks' local server, on 127.0.0.1 only: a tiny static server for the
// page (bench/browser/) and the package (pkg/), and a WebSocket endpoint at
// /ws/chat/{sessionId}/ whose session id says what to do:
//   flood-{N}-{perMessage}-{run}: send N stream_token frames as fast as the socket takes
//     them (pre-encoded, written straight to the TCP socket in large chunks so the server is
//     never the bottleneck), each message followed by a stream_complete. perMessage 0 means
//     one message "m1" with seq 0..N-1 (the frame the issue specifies).
//   idle-{run}: accept and stay silent (connect/close cycles).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import { floodFrames } from "./flood-frames.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};
/** Only these trees are served. */
const SERVED = ["bench/browser/", "pkg/"];
/** Bytes of frames handed to the socket per write. */
const CHUNK_BYTES = 1 << 20;
/** A flood larger than this is refused (bounds the server's work). */
const MAX_FLOOD = 5_000_000;

/** An unmasked server-to-client text frame. */
function textFrame(text) {
  const payload = Buffer.from(text, "utf8");
  const n = payload.length;
  let header;
  if (n < 126) header = Buffer.from([0x81, n]);
  else if (n < 65536) header = Buffer.from([0x81, 126, n >> 8, n & 255]);
  else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

/** Yields the flood's wire bytes in chunks of about CHUNK_BYTES. */
function* floodChunks(total, perMessage) {
  let parts = [];
  let size = 0;
  for (const text of floodFrames(total, perMessage)) {
    const frame = textFrame(text);
    parts.push(frame);
    size += frame.length;
    if (size >= CHUNK_BYTES) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

async function flood(ws, total, perMessage) {
  const socket = ws._socket; // raw TCP socket: ws's per-frame send would be the bottleneck
  for (const chunk of floodChunks(total, perMessage)) {
    if (ws.readyState !== ws.OPEN) return;
    if (!socket.write(chunk)) {
      await new Promise((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    }
  }
}

async function serveStatic(req, res, pkgDir) {
  if (req.url === "/favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
  if (!SERVED.some((p) => path.startsWith(p)) || path.includes("..")) {
    res.writeHead(404).end("not found\n");
    return;
  }
  try {
    const file = pkgDir && path.startsWith("pkg/") ? pkgDir + path.slice("pkg/".length) : root + path;
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found\n");
  }
}

/**
 * Starts the server on 127.0.0.1 (port 0: a free port); resolves to { url, wsUrl, close }.
 * `pkgDir` (a directory path ending in "/") serves /pkg/ from another build of the package,
 * for A/B runs (./frames-ab.mjs).
 */
export async function startServer({ pkgDir } = {}) {
  const http = createServer((req, res) => void serveStatic(req, res, pkgDir));
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  http.on("upgrade", (req, socket, head) => {
    const m = /^\/ws\/chat\/([^/?]+)\/?/.exec(req.url);
    if (!m) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => {});
      ws._socket.setNoDelay(true);
      const f = /^flood-(\d+)-(\d+)-/.exec(m[1]);
      if (f) void flood(ws, Math.min(Number(f[1]), MAX_FLOOD), Number(f[2]));
    });
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address();
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections?.();
      }),
  };
}

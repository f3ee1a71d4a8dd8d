// A fake OpenAI-compatible upstream for the e2e tests: `GET /v1/models` and streaming
// `POST /v1/chat/completions` (SSE), paced by a script the test sets, recording every request
// and whether the client aborted it before the stream ended.
//
// Run alone for manual testing: `node e2e/fake-upstream.mjs [port]`.

import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * @typedef {object} Script
 * @property {string[]} tokens   the content deltas, one SSE chunk each
 * @property {number} [delayMs]  pause before each chunk (default 40)
 * @property {number} [firstDelayMs] pause before the first chunk (default delayMs)
 * @property {string} [finishReason] default "stop"
 * @property {number} [status]   answer with this HTTP status and a JSON error instead of a stream
 * @property {string[]} [reasoning] `reasoning_content` deltas sent before the tokens (DeepSeek reasoner style)
 * @property {number} [hangAfter] after this many tokens, keep the stream open, silent, until the client aborts
 */

/**
 * @typedef {object} RecordedRequest
 * @property {number} n
 * @property {any} body           the parsed JSON body
 * @property {string} lastUser    content of the last user message
 * @property {string} authorization
 * @property {number} sentTokens  chunks written before the end or the abort
 * @property {boolean} finished   the whole stream was written
 * @property {boolean} aborted    the client went away before the stream ended
 * @property {Promise<void>} done settles when the request is over (finished or aborted)
 */

const MODEL = "fake-model";

/** Splits text into word-ish tokens that keep their leading space, like real models do. */
export function tokenize(text) {
  return text.match(/\s*\S+/g) ?? [];
}

/** Default script: echo the user's message back, word by word. */
function defaultScript(lastUser) {
  return { tokens: tokenize(`You said: ${lastUser}`), delayMs: 40 };
}

/**
 * Starts the fake upstream on 127.0.0.1.
 * @param {{ port?: number }} [opts]
 */
export async function startFakeUpstream(opts = {}) {
  /** @type {RecordedRequest[]} */
  const requests = [];
  /** @type {Script[]} */
  const queue = [];
  let modelsCalls = 0;
  const waiters = new Set();
  const notify = () => {
    for (const w of waiters) w();
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "GET" && url.pathname === "/v1/models") {
      modelsCalls++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: MODEL, object: "model", owned_by: "e2e" }] }));
      return;
    }
    if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
      return;
    }

    let raw = "";
    for await (const chunk of req) raw += chunk;
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "bad json" } }));
      return;
    }
    const msgs = Array.isArray(body.messages) ? body.messages : [];
    const lastUser = [...msgs].reverse().find((m) => m.role === "user")?.content ?? "";
    let settle;
    /** @type {RecordedRequest} */
    const rec = {
      n: requests.length + 1,
      body,
      lastUser: typeof lastUser === "string" ? lastUser : JSON.stringify(lastUser),
      authorization: req.headers.authorization ?? "",
      sentTokens: 0,
      finished: false,
      aborted: false,
      done: new Promise((r) => (settle = r)),
    };
    requests.push(rec);
    notify();

    const script = queue.shift() ?? defaultScript(rec.lastUser);
    if (script.status) {
      res.writeHead(script.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `scripted failure ${script.status}`, type: "server_error" } }));
      rec.finished = true;
      settle();
      notify();
      return;
    }

    // `close` on the response before we ended it means the client hung up mid-stream.
    res.on("close", () => {
      if (!rec.finished) {
        rec.aborted = true;
        settle();
        notify();
      }
    });

    const id = `chatcmpl-e2e-${rec.n}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta, finish = null) =>
      `data: ${JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model: MODEL,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;

    if (body.stream === false) {
      const content = script.tokens.join("");
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model: MODEL,
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: script.finishReason ?? "stop" }],
        }),
      );
      rec.finished = true;
      settle();
      notify();
      return;
    }

    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.write(chunk({ role: "assistant", content: "" }));
    const delay = script.delayMs ?? 40;
    for (const r of script.reasoning ?? []) {
      await sleep(delay);
      if (rec.aborted || res.destroyed) return;
      res.write(chunk({ content: null, reasoning_content: r }));
    }
    for (let i = 0; i < script.tokens.length; i++) {
      if (script.hangAfter !== undefined && i >= script.hangAfter) {
        await rec.done; // settled by the `close` handler when the client hangs up
        return;
      }
      await sleep(i === 0 ? (script.firstDelayMs ?? delay) : delay);
      if (rec.aborted || res.destroyed) return;
      res.write(chunk({ content: script.tokens[i] }));
      rec.sentTokens++;
      notify();
    }
    if (script.hangAfter !== undefined) {
      await rec.done;
      return;
    }
    res.write(chunk({}, script.finishReason ?? "stop"));
    res.write(
      `data: ${JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model: MODEL,
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: script.tokens.length, total_tokens: 5 + script.tokens.length },
      })}\n\n`,
    );
    res.write("data: [DONE]\n\n");
    rec.finished = true;
    res.end();
    settle();
    notify();
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());

  return {
    port,
    /** The OpenAI-style base URL, e.g. for DEEPSEEK_BASE_URL. */
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: MODEL,
    requests,
    get modelsCalls() {
      return modelsCalls;
    },
    /** Queues the script for the next completion request. */
    next(/** @type {Script} */ script) {
      queue.push(script);
    },
    /** Resolves when `pred()` holds (checked on every request event), or rejects after `timeoutMs`. */
    waitFor(pred, timeoutMs = 10_000, what = "condition") {
      return new Promise((resolve, reject) => {
        const check = () => {
          const v = pred();
          if (v) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(v);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake upstream: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const up = await startFakeUpstream({ port: Number(process.argv[2] ?? 0) });
  console.log(`fake upstream on ${up.baseUrl}`);
}

// End-to-end: the built demo page in headless Chromium, served by the real relay, whose
// upstream is the fake OpenAI-compatible server in fake-upstream.mjs.
//
// Needs pkg/, www/dist and the relay binary; `npm run e2e` (e2e/run.mjs) checks and builds.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startFakeUpstream, tokenize } from "./fake-upstream.mjs";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  ROOT,
  artifactPath,
  ensureDevBuild,
  freePort,
  launchBrowser,
  startBalancer,
  startCutProxy,
  startRedis,
  startRelay,
} from "./harness.mjs";

const TOKEN = "e2e-token";

/** @type {Awaited<ReturnType<typeof startFakeUpstream>>} */
let upstream;
/** @type {Awaited<ReturnType<typeof startRelay>>} */
let relay;
let relayPort;
/** @type {import("playwright-core").Browser} */
let browser;
let relayEnv;

async function openChat({ token = TOKEN, session, query = "", base, viewport = { width: 1100, height: 820 } } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: "en-US", timezoneId: "UTC" });
  const page = await context.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`[pageerror] ${e.message}`));
  const sockets = [];
  /** Parsed frames the page received, across all its sockets. */
  const frames = [];
  /** Parsed frames the page sent. */
  const sent = [];
  page.on("websocket", (ws) => {
    sockets.push(ws.url());
    ws.on("framesent", (f) => {
      try {
        sent.push(JSON.parse(String(f.payload)));
      } catch {
        sent.push({ type: "<not json>" });
      }
    });
    ws.on("framereceived", (f) => {
      try {
        frames.push(JSON.parse(String(f.payload)));
      } catch {
        frames.push({ type: "<not json>" });
      }
    });
  });
  const sid = session ?? `e2e_${Math.random().toString(36).slice(2, 10)}`;
  await page.goto(`${base ?? relay.url}/?token=${encodeURIComponent(token)}&session=${sid}${query}`);
  return { page, context, logs, sockets, frames, sent, session: sid };
}

/** Waits for the header's status to reach `state` (its `data-state`). */
async function waitForStatus(page, state, timeout = 10_000) {
  await page.locator(`[data-testid=status][data-state=${state}]`).waitFor({ timeout });
}

async function sendText(page, text) {
  const input = page.getByTestId("input");
  await input.fill(text);
  await input.press("Enter");
}

/** Asks for a long reply (200 tokens, 80 ms apart) and resolves once the page shows it
 *  streaming: with its tokens and the upstream request serving it. */
async function startLongReply(page) {
  const tokens = Array.from({ length: 200 }, (_, i) => ` word${i}`);
  upstream.next({ tokens, delayMs: 80 });
  const before = upstream.requests.length;
  await sendText(page, "Tell me a very long story");
  await upstream.waitFor(() => upstream.requests[before]?.sentTokens >= 4, 10_000, "4 tokens sent");
  await page.locator("[data-testid=streaming-content]").waitFor();
  return { tokens, req: upstream.requests[before] };
}

/** Sends `text` and resolves with the text of the finished reply that follows it. */
async function ask(page, text, timeout = 10_000) {
  const replies = page.locator("[data-testid=message][data-role=assistant]");
  const n = await replies.count();
  await sendText(page, text);
  const reply = replies.nth(n);
  await reply.waitFor({ timeout });
  return reply.getByTestId("message-content").innerText();
}

/** The text of the last finished message with `role`. */
async function lastMessage(page, role) {
  const msgs = page.locator(`[data-testid=message][data-role=${role}]`);
  return msgs.last().getByTestId("message-content").innerText();
}

/** Records every distinct text of the streaming bubble, from now on, in `window.__streamSnapshots`. */
async function recordStreaming(page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__streamSnapshots = [];
    const take = () => {
      const el = document.querySelector("[data-testid=streaming-content]");
      const text = el ? el.textContent : null;
      const snaps = w.__streamSnapshots;
      if (text !== null && snaps[snaps.length - 1] !== text) snaps.push(text);
    };
    new MutationObserver(take).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** Console errors and uncaught exceptions the page logged. */
function pageErrors(chat) {
  return chat.logs.filter((l) => l.startsWith("[pageerror]") || l.startsWith("[error]"));
}

function withDiagnostics(ctx, fn) {
  return async () => {
    try {
      await fn();
    } catch (e) {
      const extra = [
        ctx.chat ? `page console:\n${ctx.chat.logs.join("\n")}` : "",
        relay ? `relay output (tail):\n${relay.output().slice(-4000)}` : "",
      ].join("\n");
      if (ctx.chat) await ctx.chat.page.screenshot({ path: artifactPath(`failure-${Date.now()}.png`) }).catch(() => {});
      e.message += `\n${extra}`;
      throw e;
    }
  };
}

describe("chatwire demo in a real browser", { timeout: 180_000 }, () => {
  before(async () => {
    upstream = await startFakeUpstream();
    relayPort = await freePort();
    relayEnv = {
      DEEPSEEK_API_KEY: "sk-e2e-fake",
      DEEPSEEK_BASE_URL: upstream.baseUrl,
      DEEPSEEK_MODEL: upstream.model,
      RELAY_TOKENS: TOKEN,
    };
    relay = await startRelay({ port: relayPort, env: relayEnv });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await relay?.stop().catch(() => {});
    await upstream?.close().catch(() => {});
  });

  test("tokens stream in one by one, then the complete message equals the upstream text", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      assert.equal(await page.getByTestId("input").isEnabled(), true);
      // One connection per page (StrictMode itself is covered with the development build below).
      assert.equal(chat.sockets.length, 1, `websockets opened: ${chat.sockets.join(", ")}`);

      const text = "Streaming works: every token arrives in its own frame, in order.";
      const tokens = tokenize(text);
      upstream.next({ tokens, delayMs: 90 });
      await recordStreaming(page);
      const before = upstream.requests.length;
      await sendText(page, "Hello relay");

      await page.getByTestId("streaming").waitFor();
      await page.locator("[data-testid=stop]").waitFor(); // Stop is offered while streaming
      await page.locator("[data-testid=message][data-role=assistant]").waitFor({ timeout: 10_000 });
      await page.getByTestId("streaming").waitFor({ state: "detached" });

      assert.equal(await lastMessage(page, "assistant"), text);
      assert.equal(await lastMessage(page, "user"), "Hello relay");
      const req = upstream.requests[before];
      assert.equal(req.lastUser, "Hello relay");
      assert.equal(req.body.stream, true);
      assert.equal(req.finished, true);

      // On the wire: one stream_token frame per upstream token, in order, then stream_complete
      // whose content is the whole text.
      const streamed = chat.frames.filter((f) => f.type === "stream_token");
      assert.deepEqual(
        streamed.map((f) => f.data.token),
        tokens,
      );
      assert.deepEqual(
        streamed.map((f) => f.data.seq),
        tokens.map((_, i) => i),
      );
      const complete = chat.frames.find((f) => f.type === "stream_complete");
      assert.equal(complete?.data.content, text);

      // On screen: the bubble grew step by step, each step a longer prefix of the text (with
      // 90 ms between tokens nearly every token is its own render; allow a loaded machine some).
      const snaps = await page.evaluate(() => /** @type {any} */ (window).__streamSnapshots);
      for (let i = 0; i < snaps.length; i++) {
        assert.ok(text.startsWith(snaps[i]), `snapshot ${i} ${JSON.stringify(snaps[i])} is a prefix`);
        if (i > 0) assert.ok(snaps[i].length > snaps[i - 1].length, "snapshots only grow");
      }
      assert.ok(snaps[0].length < text.length / 2, `the first text shown is a start: ${JSON.stringify(snaps[0])}`);
      assert.ok(snaps.length >= Math.ceil(tokens.length / 2), `saw ${snaps.length} steps for ${tokens.length} tokens`);
      assert.deepEqual(pageErrors(chat), [], "no errors in the page console");
      await chat.context.close();
    })();
  });

  test("React StrictMode (development build): the double mount opens one socket that stays usable", async () => {
    const ctx = {};
    let devRelay;
    await withDiagnostics(ctx, async () => {
      const dist = ensureDevBuild();
      devRelay = await startRelay({ port: await freePort(), env: { ...relayEnv, RELAY_STATIC_DIR: dist } });
      const chat = (ctx.chat = await openChat({ base: devRelay.url }));
      const { page } = chat;
      await waitForStatus(page, "open");
      // React's development runtime announces itself; StrictMode is only active there.
      assert.ok(chat.logs.some((l) => l.includes("React DevTools")), "the page runs React's development build");
      await sleep(500); // a deferred teardown of the first mount would have closed it by now
      assert.equal(chat.sockets.length, 1, `websockets opened: ${chat.sockets.join(", ")}`);
      assert.equal(await page.getByTestId("status").getAttribute("data-state"), "open");
      const text = "One socket, even in StrictMode.";
      upstream.next({ tokens: tokenize(text), delayMs: 10 });
      assert.equal(await ask(page, "Still there?"), text);
      await chat.context.close();
    })().finally(() => devRelay?.stop());
  });

  test("Stop mid-stream ends streaming and aborts the upstream request", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const { tokens, req } = await startLongReply(page);
      await page.getByTestId("stop").click();

      await page.getByTestId("streaming").waitFor({ state: "detached", timeout: 2_000 });
      const stopped = page.locator("[data-testid=message][data-role=assistant][data-cut=stopped]");
      await stopped.waitFor({ timeout: 2_000 });
      await upstream.waitFor(() => req.aborted, 5_000, "the upstream request to be aborted");
      assert.equal(req.finished, false);
      const streamedId = chat.frames.find((f) => f.type === "stream_token")?.data.message_id;
      assert.ok(
        chat.sent.some((f) => f.type === "cancel" && f.data?.message_id === streamedId),
        `the page sent cancel for ${streamedId}`,
      );
      assert.ok(req.sentTokens < tokens.length, `upstream sent ${req.sentTokens} of ${tokens.length} tokens`);

      // Nothing more arrives for the stopped reply, and the page can send again.
      const shown = await stopped.getByTestId("message-content").innerText();
      assert.ok(shown.trim().startsWith("word0 word1"), `partial text kept: ${shown}`);
      // (Trimmed: the reply is rendered as Markdown, whose paragraph drops the leading space.)
      assert.ok(tokens.join("").trim().startsWith(shown.trim()), "the kept text is what the upstream sent");
      await sleep(400);
      assert.equal(await page.getByTestId("streaming").count(), 0);
      assert.equal(await page.getByTestId("send").isVisible(), true);
      await chat.context.close();
    })();
  });

  test("reasoning is shown while the model thinks; a failed generation shows an inline error", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");

      const thoughts = tokenize("The user greets me, so I should greet back briefly.");
      upstream.next({ reasoning: thoughts, tokens: tokenize("Hello there!"), delayMs: 60 });
      await sendText(page, "Hi");
      await page.waitForFunction(
        () => (document.querySelector("[data-testid=reasoning]")?.textContent ?? "").includes("greet back"),
        null,
        { timeout: 10_000 },
      );
      const replies = page.locator("[data-testid=message][data-role=assistant]");
      await replies.first().waitFor({ timeout: 10_000 });
      assert.equal(await lastMessage(page, "assistant"), "Hello there!", "reasoning is kept out of the answer");
      // The reasoning stays with the finished reply, folded away.
      const kept = replies.last().getByTestId("message-reasoning");
      assert.equal(await kept.evaluate((d) => /** @type {HTMLDetailsElement} */ (d).open), false);
      assert.equal(await kept.locator(".reasoning").textContent(), thoughts.join(""));

      // The upstream refuses the request: the relay reports it and the page shows it in line.
      upstream.next({ tokens: [], status: 400 });
      await sendText(page, "Trigger a failure");
      const err = page.locator("[data-testid=message][data-role=error]");
      await err.waitFor({ timeout: 10_000 });
      assert.match(await err.getByTestId("message-content").innerText(), /refused the request/);
      assert.equal(await page.getByTestId("streaming").count(), 0);
      assert.equal(await page.getByTestId("status").getAttribute("data-state"), "open");
      assert.equal(await page.getByTestId("input").isEnabled(), true, "the page can send again");
      await chat.context.close();
    })();
  });

  test("relay killed and restarted on the same port: reconnecting, then connected, and chat works", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      // Mid-conversation: a reply is streaming when the relay dies.
      upstream.next({ tokens: Array.from({ length: 100 }, (_, i) => ` part${i}`), delayMs: 80 });
      const before = upstream.requests.length;
      await sendText(page, "Keep talking");
      await upstream.waitFor(() => upstream.requests[before]?.sentTokens >= 3, 10_000, "3 tokens sent");
      await page.locator("[data-testid=streaming-content]").waitFor();

      await relay.stop("SIGKILL");
      await waitForStatus(page, "reconnecting", 5_000);
      // What had arrived stays on screen while the manager reconnects to resume it.
      assert.equal(await page.getByTestId("streaming").count(), 1, "the reply stays while reconnecting");
      const label = await page.getByTestId("status").innerText();
      assert.match(label, /Reconnecting( in \d+s)?…/);
      assert.equal(await page.getByTestId("input").isDisabled(), true, "input disabled while reconnecting");
      assert.match(await page.getByTestId("composer-hint").innerText(), /reconnecting/i);
      await page.screenshot({ path: artifactPath("reconnecting.png") });

      relay = await startRelay({ port: relayPort, env: relayEnv });
      await waitForStatus(page, "open", 15_000);
      // The new relay process cannot resume a reply the old one held in memory: what had
      // arrived stays, marked as cut short.
      await page.locator("[data-testid=message][data-role=assistant][data-cut=interrupted]").waitFor({ timeout: 5_000 });
      assert.equal(await page.getByTestId("streaming").count(), 0);
      assert.equal(await page.getByTestId("input").isEnabled(), true);

      const text = "Back online after the relay restart.";
      upstream.next({ tokens: tokenize(text), delayMs: 20 });
      assert.equal(await ask(page, "Are you there?"), text);
      assert.ok(chat.sockets.length >= 2, "a new socket was opened");
      await chat.context.close();
    })();
  });

  test("connection cut mid-answer: the reply resumes and ends identical to the upstream text", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const proxy = await startCutProxy(relayPort);
      try {
        const chat = (ctx.chat = await openChat({ base: proxy.url }));
        const { page } = chat;
        await waitForStatus(page, "open");
        const tokens = Array.from({ length: 60 }, (_, i) => ` word${i}`);
        upstream.next({ tokens, delayMs: 25 });
        const before = upstream.requests.length;
        await recordStreaming(page);
        await sendText(page, "Tell me a long story");
        await upstream.waitFor(() => upstream.requests[before]?.sentTokens >= 8, 10_000, "8 tokens sent");
        assert.ok(proxy.cut() >= 1, "the page's socket was cut");
        await waitForStatus(page, "reconnecting", 5_000);
        assert.equal(await page.getByTestId("streaming").count(), 1, "the reply stays on screen");
        const reply = page.locator("[data-testid=message][data-role=assistant]").last();
        await reply.waitFor({ timeout: 20_000 });
        assert.equal((await reply.getByTestId("message-content").innerText()).trim(), tokens.join("").trim());
        assert.ok(!(await reply.getAttribute("data-cut")), "not marked as cut short");
        // Every text the streaming bubble showed was a prefix of the answer: no token twice.
        const snapshots = await page.evaluate(() => /** @type {any} */ (window).__streamSnapshots);
        const full = tokens.join("");
        for (const snap of snapshots) assert.ok(full.startsWith(snap) || full.trim().startsWith(snap.trim()), `not a prefix: ${snap}`);
        assert.ok(chat.sockets.length >= 2, "a new socket was opened");
        assert.ok(chat.sent.some((f) => f.type === "resume"), "the manager sent resume");
        assert.equal(upstream.requests.length, before + 1, "one upstream request: no second generation");
        await chat.context.close();
      } finally {
        await proxy.close();
      }
    })();
  });

  test("page reloaded mid-answer: the reply completes in the reloaded page", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const tokens = Array.from({ length: 60 }, (_, i) => ` step${i}`);
      upstream.next({ tokens, delayMs: 25 });
      const before = upstream.requests.length;
      await sendText(page, "Count slowly");
      await upstream.waitFor(() => upstream.requests[before]?.sentTokens >= 8, 10_000, "8 tokens sent");
      await page.reload();
      await waitForStatus(page, "open");
      const reply = page.locator("[data-testid=message][data-role=assistant]").last();
      await reply.waitFor({ timeout: 20_000 });
      assert.equal((await reply.getByTestId("message-content").innerText()).trim(), tokens.join("").trim());
      assert.equal(await lastMessage(page, "user"), "Count slowly", "the question is shown again after the reload");
      assert.equal(upstream.requests.length, before + 1, "one upstream request: no second generation");
      assert.ok(chat.sent.some((f) => f.type === "resume" && f.data.conversation_id), "resumed by conversation");
      await chat.context.close();
    })();
  });

  test("page reloaded after a reply: the conversation is shown again, and goes on", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const first = "The first answer, before the reload.";
      upstream.next({ tokens: tokenize(first), delayMs: 5 });
      assert.equal(await ask(page, "First question"), first);
      await page.reload();
      await waitForStatus(page, "open");
      const shown = async () =>
        page.locator("[data-testid=message]").evaluateAll((nodes) =>
          nodes.map((n) => [n.dataset.role, n.querySelector("[data-testid=message-content]")?.textContent?.trim()]),
        );
      assert.deepEqual(await shown(), [["user", "First question"], ["assistant", first]]);
      const second = "The second answer, after it.";
      upstream.next({ tokens: tokenize(second), delayMs: 5 });
      const before = upstream.requests.length;
      assert.equal(await ask(page, "Second question"), second);
      // One conversation: the relay sent the first exchange upstream as history.
      const sentUpstream = upstream.requests[before].body.messages.map((m) => m.content);
      assert.deepEqual(sentUpstream.slice(-3), ["First question", first, "Second question"]);
      assert.deepEqual((await shown()).map(([role]) => role), ["user", "assistant", "user", "assistant"]);
      await chat.context.close();
    })();
  });

  test("New chat: the conversation is cleared and the next question goes upstream without it, also after a reload", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const newChat = page.getByTestId("new-chat");
      assert.equal(await newChat.isDisabled(), true, "nothing to leave yet");
      const first = "An answer in the first conversation.";
      upstream.next({ tokens: tokenize(first), delayMs: 5 });
      assert.equal(await ask(page, "Old question"), first);
      const firstConversation = chat.sent.findLast((f) => f.type === "chat_message").data.conversation_id;
      await newChat.click();
      await page.locator("[data-testid=message]").first().waitFor({ state: "detached" });
      await page.reload();
      await waitForStatus(page, "open");
      assert.equal(await page.locator("[data-testid=message]").count(), 0, "the cleared conversation stays cleared");
      const second = "An answer in the new conversation.";
      upstream.next({ tokens: tokenize(second), delayMs: 5 });
      const before = upstream.requests.length;
      assert.equal(await ask(page, "New question"), second);
      const sentUpstream = upstream.requests[before].body.messages.map((m) => m.content);
      assert.ok(!sentUpstream.includes("Old question"), `no history of the old conversation: ${JSON.stringify(sentUpstream)}`);
      const secondConversation = chat.sent.findLast((f) => f.type === "chat_message").data.conversation_id;
      assert.notEqual(secondConversation, firstConversation);
      await chat.context.close();
    })();
  });

  test("New chat while a reply streams: the reply is cancelled and nothing of it comes back", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const { req } = await startLongReply(page);
      await page.getByTestId("new-chat").click();

      await page.getByTestId("streaming").waitFor({ state: "detached", timeout: 2_000 });
      await upstream.waitFor(() => req.aborted, 5_000, "the upstream request to be aborted");
      assert.ok(chat.sent.some((f) => f.type === "cancel"), "the page sent cancel");
      await sleep(400);
      assert.equal(await page.getByTestId("streaming").count(), 0, "no late token brought the reply back");
      assert.equal(await page.locator("[data-testid=message]").count(), 0);
      assert.equal(await page.getByTestId("new-chat").isDisabled(), true);
      await chat.context.close();
    })();
  });

  test("replies render as Markdown, and HTML or script links in a reply stay inert", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const text = [
        "Use **bold** and `code`:",
        "",
        "- one",
        "- two",
        "",
        '<img src="x" onerror="window.__pwned = 1"> [click](javascript:window.__pwned=2)',
      ].join("\n");
      upstream.next({ tokens: tokenize(text), delayMs: 5 });
      await sendText(page, "Show me some Markdown");
      const reply = page.locator("[data-testid=message][data-role=assistant]").last();
      await reply.waitFor({ timeout: 10_000 });
      const content = reply.getByTestId("message-content");
      assert.equal(await content.locator("strong").innerText(), "bold");
      assert.equal(await content.locator("code").innerText(), "code");
      assert.deepEqual(await content.locator("li").allInnerTexts(), ["one", "two"]);
      assert.equal(await content.locator("img").count(), 0, "HTML in a reply is shown as text");
      assert.match(await content.innerText(), /<img src="x"/);
      const href = await content.locator("a").getAttribute("href");
      assert.ok(!String(href).startsWith("javascript:"), `the link lost its script URL: ${href}`);
      await content.locator("a").click();
      assert.equal(await page.evaluate(() => /** @type {any} */ (window).__pwned), undefined);
      assert.deepEqual(pageErrors(chat), [], "no errors in the page console");
      await chat.context.close();
    })();
  });

  test("a reply streams as Markdown block by block, and ends rendered whole", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      const text = ["## Plan", "", "First a paragraph with `code`.", "", "```js", "", "let x = 1;", "```", "", "Then the rest, word by word."].join("\n");
      upstream.next({ tokens: tokenize(text), delayMs: 60 });
      await sendText(page, "Plan it");
      const live = page.getByTestId("streaming-content");
      // While it streams: the heading is already a heading, and the fence's blank line does
      // not split the code block in two.
      await live.locator("h2").waitFor({ timeout: 10_000 });
      await live.locator("pre").waitFor({ timeout: 10_000 });
      const reply = page.locator("[data-testid=message][data-role=assistant]").last();
      await reply.waitFor({ timeout: 10_000 });
      const content = reply.getByTestId("message-content");
      assert.equal(await content.locator("h2").innerText(), "Plan");
      assert.equal(await content.locator("pre").count(), 1);
      assert.equal((await content.locator("pre").innerText()).trim(), "let x = 1;");
      assert.equal(await content.locator("p").count(), 2);
      await chat.context.close();
    })();
  });

  test("reconnect attempts exhausted: failure banner with Retry, which reconnects", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat({ query: "&maxReconnectAttempts=2&baseDelayMs=200" }));
      const { page } = chat;
      await waitForStatus(page, "open");
      await relay.stop("SIGKILL");
      await waitForStatus(page, "failed", 10_000);
      const banner = page.locator("[data-testid=error-banner][data-code=reconnect_failed]");
      await banner.waitFor();
      assert.equal(await page.getByTestId("input").isDisabled(), true);
      assert.match(await page.getByTestId("composer-hint").innerText(), /Retry/);
      await page.screenshot({ path: artifactPath("failed.png") });

      relay = await startRelay({ port: relayPort, env: relayEnv });
      await page.getByTestId("retry").click();
      await waitForStatus(page, "open", 10_000);
      await banner.waitFor({ state: "detached" });
      const text = "Retry brought the connection back.";
      upstream.next({ tokens: tokenize(text), delayMs: 10 });
      assert.equal(await ask(page, "ping?"), text);
      await chat.context.close();
    })();
  });

  test("wrong token: the auth error is shown and the page does not retry", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat({ token: "not-the-token" }));
      const { page } = chat;
      await waitForStatus(page, "closed", 10_000);
      const banner = page.locator("[data-testid=error-banner][data-code=unauthorized]");
      await banner.waitFor();
      assert.match(await banner.innerText(), /refused this token/);
      assert.equal(await page.getByTestId("retry").count(), 0, "no Retry for a refused token");
      assert.equal(await page.getByTestId("input").isDisabled(), true);
      assert.match(await page.getByTestId("composer-hint").innerText(), /Not authorized/);
      await page.screenshot({ path: artifactPath("unauthorized.png") });
      // With a 1 s base delay a reconnect would have happened by now.
      await sleep(2_500);
      assert.equal(chat.sockets.length, 1, `sockets opened: ${chat.sockets.length}`);
      assert.equal(await page.getByTestId("status").getAttribute("data-state"), "closed");
      await chat.context.close();
    })();
  });

  test("screenshot of a finished conversation", async () => {
    const ctx = {};
    await withDiagnostics(ctx, async () => {
      const chat = (ctx.chat = await openChat());
      const { page } = chat;
      await waitForStatus(page, "open");
      assert.equal(await page.evaluate(() => typeof (/** @type {any} */ (window).chatwire?.ChatWebSocketManager)), "function");

      const turns = [
        [
          "What does chatwire do?",
          "chatwire is a WebSocket client written in Rust and compiled to WebAssembly. It keeps one connection to the relay alive, reconnects with exponential backoff when the network drops, and streams the assistant's reply token by token.",
        ],
        [
          "And if the server restarts mid-answer?",
          "The client notices the close, shows a countdown, and reconnects on its own. Messages typed while offline wait in a small outbox and are sent, in order, as soon as the socket is open again.",
        ],
      ];
      for (const [q, a] of turns) {
        upstream.next({ tokens: tokenize(a), delayMs: 8 });
        assert.equal(await ask(page, q), a);
      }
      assert.deepEqual(pageErrors(chat), [], "no errors in the page console");
      await page.mouse.move(0, 0);
      await page.screenshot({ path: artifactPath("chat.png") });

      // And one mid-answer, showing the streaming bubble and the Stop button.
      const partial = "The relay is a small Rust server: it checks the token, streams";
      upstream.next({ tokens: tokenize(partial), delayMs: 30, hangAfter: tokenize(partial).length });
      await sendText(page, "How is the relay built?");
      await page.waitForFunction(
        (want) => document.querySelector("[data-testid=streaming-content]")?.textContent === want,
        partial,
        { timeout: 10_000 },
      );
      await page.screenshot({ path: artifactPath("chat-streaming.png") });
      await page.getByTestId("stop").click();
      await chat.context.close();
    })();
  });

  describe("two relays behind HAProxy, sharing Redis", () => {
    let redis;
    let balancer;
    const relays = [];
    let ports;
    let env;
    before(async () => {
      redis = await startRedis();
      env = { ...relayEnv, RELAY_REDIS_URL: redis.url, RELAY_SHUTDOWN_GRACE_MS: "20000" };
      ports = [await freePort(), await freePort()];
      for (const port of ports) relays.push(await startRelay({ port, env }));
      balancer = await startBalancer(ports);
    });

    after(async () => {
      await balancer?.stop().catch(() => {});
      for (const r of relays) await r.stop().catch(() => {});
      await redis?.stop().catch(() => {});
    });

    test("the relay serving the page is restarted mid-answer: the answer completes in the page", async () => {
      const ctx = {};
      await withDiagnostics(ctx, async () => {
        const chat = (ctx.chat = await openChat({ base: balancer.url }));
        const { page } = chat;
        await waitForStatus(page, "open");
        const tokens = Array.from({ length: 60 }, (_, i) => ` line${i}`);
        upstream.next({ tokens, delayMs: 30 });
        const before = upstream.requests.length;
        await sendText(page, "Survive a deploy");
        await upstream.waitFor(() => upstream.requests[before]?.sentTokens >= 8, 10_000, "8 tokens sent");
        // `balance first`: the page and its socket are on the first relay. SIGTERM: it
        // closes its sockets with 1012 at once and finishes the answer into Redis; the page
        // reconnects through the balancer to the other relay and resumes there.
        const stopping = relays[0].stop("SIGTERM");
        await waitForStatus(page, "reconnecting", 5_000);
        const reply = page.locator("[data-testid=message][data-role=assistant]").last();
        await reply.waitFor({ timeout: 30_000 });
        assert.equal((await reply.getByTestId("message-content").innerText()).trim(), tokens.join("").trim());
        assert.ok(!(await reply.getAttribute("data-cut")), "not marked as cut short");
        assert.equal(upstream.requests.length, before + 1, "one upstream request: no second generation");
        assert.equal(await stopping, 0, "the stopped relay exited cleanly");
        // Started again, as in a rolling restart; the page keeps chatting through the balancer.
        relays[0] = await startRelay({ port: ports[0], env });
        const text = "Still here after the restart.";
        upstream.next({ tokens: tokenize(text), delayMs: 10 });
        assert.equal(await ask(page, "Still there?"), text);
        await chat.context.close();
      })();
    });

    test("rolling restart: 20 answers stream while each relay in turn gets SIGTERM and is started again", async () => {
      // The shipped package in Node (as tests/pkg/ does), with the `ws` package as WebSocket.
      const { WebSocket } = await import(pathToFileURL(path.join(ROOT, "node_modules", "ws", "wrapper.mjs")).href);
      globalThis.WebSocket = class extends WebSocket {
        constructor(...args) {
          super(...args);
          this.on("error", () => {}); // a browser drops an unhandled `error` event
        }
      };
      const chatwire = await import(pathToFileURL(path.join(ROOT, "pkg", "chatwire.js")).href);
      await chatwire.default({ module_or_path: readFileSync(path.join(ROOT, "pkg", "chatwire_bg.wasm")) });
      const wsBase = balancer.url.replace("http:", "ws:");
      const before = upstream.requests.length;
      // The fake upstream echoes the message word by word, 40 ms a word.
      const start = (i, words) => {
        const m = new chatwire.ChatWebSocketManager(`rolling_${i}_${Date.now()}`, TOKEN, {
          url: wsBase,
          baseDelayMs: 50,
          maxDelayMs: 400,
          maxReconnectAttempts: 20,
        });
        const seen = { tokens: [], offsets: [], complete: [], errors: [] };
        m.onStreamToken = (f) => {
          seen.tokens.push(f.data.token);
          seen.offsets.push(f.data.offset);
        };
        m.onStreamComplete = (f) => seen.complete.push(f.data.content);
        m.onError = (f) => seen.errors.push(f.data.code);
        const message = Array.from({ length: words }, (_, w) => `a${i}w${w}`).join(" ");
        return { m, seen, message, conversation: `conv_rolling_${i}` };
      };
      const send = async (batch) => {
        for (const a of batch) await a.m.connect();
        for (const a of batch) a.m.sendChat(a.message, a.conversation);
      };
      // Ten answers start on the first relay (`balance first`), about 4 s each.
      const first = Array.from({ length: 10 }, (_, i) => start(i, 100));
      await send(first);
      await upstream.waitFor(() => upstream.requests.length >= before + 10, 10_000, "10 upstream requests");
      await sleep(300);
      // SIGTERM: its sockets close with 1012 and move to the second relay; its answers go on
      // into Redis until they are done, then it exits.
      const firstExit = relays[0].stop("SIGTERM");
      await sleep(300);
      // Ten more start on the second relay, about 8 s each.
      const second = Array.from({ length: 10 }, (_, i) => start(10 + i, 200));
      await send(second);
      await upstream.waitFor(() => upstream.requests.length >= before + 20, 10_000, "20 upstream requests");
      assert.equal(await firstExit, 0, "the first relay exited cleanly");
      relays[0] = await startRelay({ port: ports[0], env });
      await sleep(300);
      // Now the second relay, mid-answer; its sockets go back to the first.
      assert.ok(second.some((a) => a.seen.complete.length === 0), "the second batch is still streaming");
      assert.equal(await relays[1].stop("SIGTERM"), 0, "the second relay exited cleanly");
      relays[1] = await startRelay({ port: ports[1], env });
      const answers = [...first, ...second];
      const deadline = Date.now() + 30_000;
      while (answers.some((a) => a.seen.complete.length === 0 && a.seen.errors.length === 0)) {
        assert.ok(Date.now() < deadline, "every answer ends within 30 s");
        await sleep(50);
      }
      let resumedTokens = 0;
      for (const [i, a] of answers.entries()) {
        const expected = `You said: ${a.message}`;
        assert.deepEqual(a.seen.errors, [], `answer ${i}: no error`);
        assert.equal(a.seen.complete.length, 1, `answer ${i}: one terminal frame`);
        assert.equal(a.seen.complete[0].trim(), expected, `answer ${i}: identical to the upstream text`);
        assert.equal(a.seen.tokens.join("").trim(), expected, `answer ${i}: no token lost or twice`);
        assert.deepEqual(a.seen.offsets, a.seen.offsets.map((_, k) => k + 1), `answer ${i}: offsets run 1, 2, 3…`);
        resumedTokens += a.seen.tokens.length;
        a.m.disconnect();
        a.m.free();
      }
      assert.equal(upstream.requests.length, before + 20, "one upstream request per answer");
      console.log(`rolling restart: 20 of 20 answers complete, ${resumedTokens} tokens, 0 repeated, 0 lost`);
    });
  });
});

// Not in a browser: the hook rendered on a server (as Next.js would), with a session's
// transcript in storage. The first render must be the server's, an empty list, or the page
// would not hydrate; the transcript is loaded by an effect, after hydration.
test("server render: the hook's first render is empty even with a transcript stored", async () => {
  const { createElement } = await import("react");
  const { renderToString } = await import("react-dom/server");
  const { useChatSocket } = await import("chatwire/react");
  const stored = new Map([
    ["chatwire:messages:s1", JSON.stringify([{ id: "c-1", role: "user", content: "Hi", time: new Date().toISOString() }])],
  ]);
  globalThis.sessionStorage = /** @type {any} */ ({ getItem: (k) => stored.get(k) ?? null, setItem() {}, removeItem() {} });
  try {
    const Chat = () => createElement("p", null, `${useChatSocket("s1", "token").messages.length} messages`);
    assert.equal(renderToString(createElement(Chat)), "<p>0 messages</p>");
  } finally {
    delete globalThis.sessionStorage;
  }
});

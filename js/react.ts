// `chatwire/react`: a React hook that owns one ChatWebSocketManager per session and turns its
// callbacks into render state (messages, the streaming reply, status, countdown, last error).
//
// Shipped next to the wasm-bindgen glue: the package build copies this file into `pkg/` and
// compiles it there, so `./chatwire.js` is the same module apps import as `chatwire`.
// `react` (>= 18) is a peer dependency.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import init, { ChatWebSocketManager } from "./chatwire.js";
import type { AuthToken, ConnectionState } from "./chatwire.js";

export type { AuthToken };

/** Options accepted by the manager's constructor (derived so they never drift from it). */
export type ManagerOptions = NonNullable<ConstructorParameters<typeof ChatWebSocketManager>[2]>;

/** The manager's connection state: `idle`, `connecting`, `open`, `reconnecting`, `closed`, `failed`. */
export type ConnectionStatus = ConnectionState;

/** Who said a message. `error` marks a generation that failed, shown inline in the list. */
export type ChatRole = "user" | "assistant" | "error";

/** One finished message in the conversation. */
export interface ChatMessage {
  /** `client_message_id` for the user's messages, the server's `message_id` for replies. */
  id: string;
  role: ChatRole;
  content: string;
  /** When the message was sent (user) or completed (assistant). */
  time: Date;
  conversationId?: string;
  /** The server's `finish_reason` (`stop`, `length`, `cancelled`, …) for replies. */
  finishReason?: string;
  /** The model's reasoning before the reply (`reasoning_token` frames), when it sent any. */
  reasoning?: string;
  /** Set when the reply was cut short: by Stop (`stopped`), or because the connection was
   *  lost and the relay could not resume the reply (`interrupted`). */
  cut?: "stopped" | "interrupted";
}

/** The reply being generated right now. */
export interface StreamingMessage {
  /** The server's `message_id`, `null` until the first token arrives. */
  id: string | null;
  /** The `client_message_id` of the user message this answers. */
  clientMessageId: string | null;
  content: string;
  /** Reasoning tokens (`reasoning_token` frames) from models that send them. */
  reasoning: string;
  /** Number of `stream_token` frames received so far. */
  tokens: number;
  startedAt: Date;
}

/** The last error reported by the manager or the server. */
export interface ChatSocketError {
  code: string;
  message: string;
  messageId?: string;
  retryable?: boolean;
  time: Date;
}

export interface UseChatSocketOptions extends ManagerOptions {
  /** `conversation_id` sent with every message. Without it the hook names the conversation
   *  itself (`conv_<sessionId>` first, a new one on each `clear()`, kept across reloads). */
  conversationId?: string;
  /** `false` keeps the hook idle (no manager, no socket). Default `true`. */
  enabled?: boolean;
}

export interface ChatSocket {
  status: ConnectionStatus;
  /** `status === "open"`. */
  isConnected: boolean;
  /** The conversation shown, oldest first. Kept in sessionStorage for the session id (its
   *  last 200 messages), so a page reload shows it again, as the relay still has its history. */
  messages: ChatMessage[];
  /** The reply being generated, or `null`. */
  streaming: StreamingMessage | null;
  /** While `reconnecting`: milliseconds until the next attempt, else `null`. */
  reconnectInMs: number | null;
  /** The last error, until `retry()`, `dismissError()` or a successful reconnect clears it. */
  error: ChatSocketError | null;
  /** Sends a chat message; returns its `client_message_id`, or `null` if nothing was sent. */
  send: (text: string) => string | null;
  /** Cancels the reply being generated (sends `cancel` for its `message_id`). */
  stop: () => void;
  /** Starts connecting again after `failed` (or `closed`), with a fresh attempt count. */
  retry: () => void;
  dismissError: () => void;
  /** Starts a new conversation: cancels the reply streaming, if any, forgets the messages
   *  shown, here and in sessionStorage, and, unless the `conversationId` option names it, sends
   *  what follows under a new conversation id, so the relay answers without the earlier
   *  history. The socket stays as it is. */
  clear: () => void;
  /** The underlying manager, once the wasm module is loaded. */
  manager: ChatWebSocketManager | null;
}

type InitInput = Parameters<typeof init>[0];
let initPromise: Promise<unknown> | null = null;

/**
 * Loads the wasm module once. Call it yourself with an explicit input (e.g. a bundler's URL for
 * `chatwire_bg.wasm`) before the first render if the default `import.meta.url` lookup does not
 * fit your setup; later calls return the same promise.
 */
export function initChatwire(input?: InitInput): Promise<unknown> {
  if (!initPromise) {
    initPromise = (input === undefined ? init() : init(input)).catch((e: unknown) => {
      initPromise = null;
      throw e;
    });
  }
  return initPromise;
}

/** Errors that end a reply the relay could not resume after a reconnect. */
const LOST_CODES = new Set(["stream_lost", "stream_expired"]);

/** Where the hook keeps the reply in flight across a page reload (sessionStorage). */
const inflightKey = (sessionId: string) => `chatwire:inflight:${sessionId}`;

interface Inflight {
  conversationId: string;
  clientMessageId: string;
}

function storage(): Storage | null {
  try {
    return typeof sessionStorage === "undefined" ? null : sessionStorage;
  } catch {
    return null; // storage disabled (privacy settings, sandboxed frames)
  }
}

function readInflight(sessionId: string): Inflight | null {
  try {
    const saved = JSON.parse(storage()?.getItem(inflightKey(sessionId)) ?? "null");
    return typeof saved?.conversationId === "string" && typeof saved?.clientMessageId === "string" ? saved : null;
  } catch {
    return null;
  }
}

function writeInflight(sessionId: string, inflight: Inflight | null): void {
  const store = storage();
  if (!store) return;
  if (inflight) store.setItem(inflightKey(sessionId), JSON.stringify(inflight));
  else store.removeItem(inflightKey(sessionId));
}

/** Where the hook keeps the conversation shown across a page reload (sessionStorage, like the
 *  reply in flight). */
const transcriptKey = (sessionId: string) => `chatwire:messages:${sessionId}`;

/** Most messages kept across a reload, the newest; sessionStorage holds a few MB per origin. */
const TRANSCRIPT_LIMIT = 200;

const ROLES: ReadonlySet<unknown> = new Set<ChatRole>(["user", "assistant", "error"]);
const CUTS: ReadonlySet<unknown> = new Set<ChatMessage["cut"]>(["stopped", "interrupted"]);

/** The messages kept for `sessionId`; an entry of another shape (an older page, a hand edit)
 *  is left out. */
function readTranscript(sessionId: string): ChatMessage[] {
  let saved: unknown;
  try {
    saved = JSON.parse(storage()?.getItem(transcriptKey(sessionId)) ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(saved)) return [];
  return saved.flatMap((entry: Record<string, unknown> | null): ChatMessage[] => {
    const id = str(entry?.id);
    const content = str(entry?.content);
    const time = new Date(str(entry?.time) ?? Number.NaN);
    if (id === undefined || content === undefined || !ROLES.has(entry?.role) || Number.isNaN(time.getTime())) return [];
    const message: ChatMessage = { id, role: entry?.role as ChatRole, content, time };
    const conversationId = str(entry?.conversationId);
    const finishReason = str(entry?.finishReason);
    const reasoning = str(entry?.reasoning);
    if (conversationId !== undefined) message.conversationId = conversationId;
    if (finishReason !== undefined) message.finishReason = finishReason;
    if (reasoning !== undefined) message.reasoning = reasoning;
    if (CUTS.has(entry?.cut)) message.cut = entry?.cut as ChatMessage["cut"];
    return [message];
  });
}

function writeTranscript(sessionId: string, messages: ChatMessage[]): void {
  try {
    const store = storage();
    if (!store) return;
    if (messages.length === 0) store.removeItem(transcriptKey(sessionId));
    else store.setItem(transcriptKey(sessionId), JSON.stringify(messages.slice(-TRANSCRIPT_LIMIT)));
  } catch {
    // Storage full or refused: the page goes on; only a reload would start empty.
  }
}

/** Where the hook keeps the conversation it named for a session (after `clear()`), so a reload
 *  goes on with it. */
const conversationKey = (sessionId: string) => `chatwire:conversation:${sessionId}`;

/** The conversation the hook sends under for `sessionId` when the caller names none. */
function readConversation(sessionId: string): string {
  try {
    return storage()?.getItem(conversationKey(sessionId)) || `conv_${sessionId}`;
  } catch {
    return `conv_${sessionId}`;
  }
}

/** Names a new conversation for `sessionId` and keeps it. */
function startConversation(sessionId: string): void {
  try {
    storage()?.setItem(conversationKey(sessionId), `conv_${sessionId}_${Date.now().toString(36)}`);
  } catch {
    // Storage refused: the hook goes on with the conversation it had.
  }
}

/** The reply that was streaming, ended before `stream_complete` (Stop, a lost connection, an
 *  error), as a finished message under `id`. */
function endedReply(reply: StreamingMessage, id: string, cut: ChatMessage["cut"]): ChatMessage {
  return { id, role: "assistant", content: reply.content, time: new Date(), cut, reasoning: reply.reasoning || undefined };
}

/** Error codes the client raises about the connection itself, never about one generation. */
const CONNECTION_CODES = new Set(["reconnect_failed", "unauthorized", "bad_frame", "outbox_full"]);

/** The least the hook assumes of a frame; the package's precise frame types are assignable to it. */
interface FrameWithData {
  type?: unknown;
  data?: unknown;
}

/** `frame.data` as a plain record (an empty one when it is missing or not an object). */
const dataOf = (frame: FrameWithData): Record<string, unknown> =>
  typeof frame.data === "object" && frame.data !== null ? (frame.data as Record<string, unknown>) : {};

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Everything that must outlive one effect run. React StrictMode (and Fast Refresh) run an
 *  effect's cleanup and setup back to back: the setup picks the holder up before its deferred
 *  disposal runs, so a live socket is kept rather than closed and reopened. (On the very first
 *  mount the manager does not exist yet: it is made once the wasm module has loaded.) */
interface Holder {
  key: string;
  manager: ChatWebSocketManager | null;
  disposed: boolean;
  disposeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Replies the user stopped: their late tokens are dropped. */
  stopped: Set<string>;
  /** Stop pressed before the first token: that reply's late tokens must be dropped. */
  stopPending: string | null;
}

function dispose(holder: Holder): void {
  if (holder.disposed) return;
  holder.disposed = true;
  const m = holder.manager;
  holder.manager = null;
  if (m) {
    try {
      m.disconnect();
    } finally {
      m.free();
    }
  }
}

/**
 * Owns one `ChatWebSocketManager` for `sessionId` and exposes the conversation as React state.
 *
 * ```tsx
 * const chat = useChatSocket("session_1", () => localStorage.getItem("auth_token") ?? "dev");
 * chat.send("Hello");
 * ```
 *
 * A new manager is made when `sessionId`, a string `token` or the manager options change; a
 * token function is read through a ref, so passing a new arrow each render is fine.
 */
export function useChatSocket(
  sessionId: string,
  token: AuthToken,
  options: UseChatSocketOptions = {},
): ChatSocket {
  const { conversationId, enabled = true, ...managerOptions } = options;
  const optionsKey = JSON.stringify(managerOptions);
  const tokenKey = typeof token === "string" ? token : "<fn>";
  const key = `${sessionId}\u0000${tokenKey}\u0000${optionsKey}`;

  const tokenRef = useRef(token);
  tokenRef.current = token;
  const optionsRef = useRef(managerOptions);
  optionsRef.current = managerOptions;
  // Counts `clear()`s: each names a new conversation in sessionStorage, read again here.
  const [conversationsStarted, setConversationsStarted] = useState(0);
  const ownConversation = useMemo(() => readConversation(sessionId), [sessionId, conversationsStarted]);
  const conversation = conversationId ?? ownConversation;
  const conversationRef = useRef(conversation);
  conversationRef.current = conversation;

  const holderRef = useRef<Holder | null>(null);
  const [manager, setManager] = useState<ChatWebSocketManager | null>(null);
  const [status, setStatus] = useState<ConnectionStatus>("idle");
  // Empty on the first render, as on a server (no sessionStorage there, and a different first
  // render would not hydrate); the effect below loads the session's transcript.
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  // The session whose transcript `messages` holds, once loaded. Until the effect below loads
  // it, and after `sessionId` changes until it loads the new one, nothing is written, so the
  // stored transcript is not overwritten by the list of the first render or of another
  // session. (This effect is declared before that one, so it runs first.)
  const transcriptOf = useRef<string | null>(null);
  useEffect(() => {
    if (transcriptOf.current === sessionId) writeTranscript(sessionId, messages);
  }, [sessionId, messages]);
  const [streaming, setStreaming] = useState<StreamingMessage | null>(null);
  const [error, setError] = useState<ChatSocketError | null>(null);
  const [reconnectInMs, setReconnectInMs] = useState<number | null>(null);
  // The streaming reply is also kept in a ref so callbacks that need it (stop, state changes)
  // read the current one, not the one of the render they were made in.
  const streamingRef = useRef<StreamingMessage | null>(null);
  const updateStreaming = useCallback(
    (next: (prev: StreamingMessage | null) => StreamingMessage | null) => {
      streamingRef.current = next(streamingRef.current);
      setStreaming(streamingRef.current);
    },
    [],
  );

  useEffect(() => {
    if (!enabled) return;
    const existing = holderRef.current;
    if (existing && existing.key === key && !existing.disposed && existing.disposeTimer !== undefined) {
      // StrictMode's second mount: keep the manager the first mount made.
      clearTimeout(existing.disposeTimer);
      existing.disposeTimer = undefined;
      const h = existing;
      return () => scheduleDispose(h);
    }
    if (existing) dispose(existing);

    const holder: Holder = {
      key,
      manager: null,
      disposed: false,
      disposeTimer: undefined,
      stopped: new Set(),
      stopPending: null,
    };
    holderRef.current = holder;
    transcriptOf.current = sessionId;
    setMessages(readTranscript(sessionId));
    streamingRef.current = null;
    setStreaming(null);
    setError(null);
    setStatus("connecting");

    const finishStreamingAs = (cut: ChatMessage["cut"]) => {
      const s = streamingRef.current;
      if (!s) return;
      if (s.id) holder.stopped.add(s.id);
      holder.stopPending = null;
      updateStreaming(() => null);
      if (s.content || s.id) {
        const ended = endedReply(s, s.id ?? `partial_${Date.now()}`, cut);
        setMessages((prev) => [...prev, ended]);
      }
    };

    const wire = (m: ChatWebSocketManager) => {
      m.onStateChange = (state: string) => {
        if (holder.disposed) return;
        const st = state as ConnectionStatus;
        setStatus(st);
        if (st === "open") {
          setReconnectInMs(null);
          setError((e) => (e && CONNECTION_CODES.has(e.code) && e.code !== "unauthorized" ? null : e));
        } else if (st === "reconnecting") {
          setReconnectInMs(m.reconnectDelayMs ?? null);
        } else {
          setReconnectInMs(null);
        }
        // A reply survives a reconnect (the manager resumes it), but not the manager giving up.
        if (st === "failed" || st === "closed") finishStreamingAs("interrupted");
      };
      m.onStreamToken = (frame: FrameWithData) => {
        if (holder.disposed) return;
        const id = str(dataOf(frame).message_id);
        const tok = str(dataOf(frame).token) ?? "";
        if (!id || holder.stopped.has(id)) return;
        if (holder.stopPending !== null && streamingRef.current === null) {
          // The first token of a reply stopped before it started: it is the stopped one.
          holder.stopPending = null;
          holder.stopped.add(id);
          return;
        }
        updateStreaming((prev) => {
          if (prev && (prev.id === id || prev.id === null)) {
            return { ...prev, id, content: prev.content + tok, tokens: prev.tokens + 1 };
          }
          return { id, clientMessageId: null, content: tok, reasoning: "", tokens: 1, startedAt: new Date() };
        });
      };
      m.onUnknown = (frame: FrameWithData) => {
        if (holder.disposed || frame.type !== "reasoning_token") return;
        const id = str(dataOf(frame).message_id);
        const tok = str(dataOf(frame).token) ?? "";
        if (id && holder.stopped.has(id)) return;
        updateStreaming((prev) =>
          prev && (prev.id === id || prev.id === null || !id)
            ? { ...prev, id: id ?? prev.id, reasoning: prev.reasoning + tok }
            : { id: id ?? null, clientMessageId: null, content: "", reasoning: tok, tokens: 0, startedAt: new Date() },
        );
      };
      m.onStreamComplete = (frame: FrameWithData) => {
        if (holder.disposed) return;
        const d = dataOf(frame);
        const id = str(d.message_id) ?? `msg_${Date.now()}`;
        // The manager fills `content` with the whole accumulated text: no stale React state.
        const content = str(d.content) ?? "";
        const finishReason = str(d.finish_reason);
        const conv = str(d.conversation_id);
        const clientId = str(d.client_message_id);
        if (clientId !== undefined && clientId === holder.stopPending) {
          holder.stopPending = null;
          holder.stopped.add(id);
        }
        if (holder.stopped.has(id)) {
          // Stopped locally already; the server's final text is the truth for that message.
          const localId = clientId !== undefined ? `stopped_${clientId}` : id;
          setMessages((prev) =>
            prev.map((msg) =>
              msg.id === id || msg.id === localId ? { ...msg, id, content: content || msg.content, finishReason } : msg,
            ),
          );
          return;
        }
        const s = streamingRef.current;
        const ours = s !== null && (s.id === id || s.id === null);
        if (ours) {
          holder.stopPending = null;
          updateStreaming(() => null);
          writeInflight(sessionId, null);
        }
        const reasoning = (ours && s.reasoning) || undefined;
        setMessages((prev) => [
          ...prev,
          { id, role: "assistant", content, time: new Date(), conversationId: conv, finishReason, reasoning },
        ]);
      };
      m.onChatMessage = (frame: FrameWithData) => {
        if (holder.disposed) return;
        const d = dataOf(frame);
        const content = str(d.content) ?? str(d.message) ?? "";
        const role = str(d.role) === "user" ? "user" : "assistant";
        setMessages((prev) => [
          ...prev,
          { id: str(d.message_id) ?? `msg_${Date.now()}`, role, content, time: new Date(), conversationId: str(d.conversation_id) },
        ]);
      };
      m.onError = (frame: FrameWithData) => {
        if (holder.disposed) return;
        const d = dataOf(frame);
        const err: ChatSocketError = {
          code: str(d.code) ?? "error",
          message: str(d.message) ?? "Something went wrong",
          messageId: str(d.message_id),
          retryable: typeof d.retryable === "boolean" ? d.retryable : undefined,
          time: new Date(),
        };
        // The echo of our own Stop is not an error worth showing.
        if (err.code === "cancelled" || (err.messageId !== undefined && holder.stopped.has(err.messageId))) return;
        const s = streamingRef.current;
        if (LOST_CODES.has(err.code)) {
          // Lost on the way: keep what arrived (the error carries it), marked as cut short.
          const received = str(d.content) ?? "";
          if (s && received.length > s.content.length) {
            updateStreaming((prev) => (prev ? { ...prev, id: prev.id ?? err.messageId ?? null, content: received } : prev));
          }
          finishStreamingAs("interrupted");
          writeInflight(sessionId, null);
          setError(err);
          return;
        }
        const aboutGeneration =
          !CONNECTION_CODES.has(err.code) &&
          (err.messageId !== undefined ? s?.id === err.messageId || s?.id === null : s !== null);
        if (aboutGeneration && s) {
          finishStreamingAs(undefined);
          writeInflight(sessionId, null);
          setMessages((prev) => [
            ...prev,
            { id: `err_${Date.now()}`, role: "error", content: err.message, time: err.time },
          ]);
        }
        setError(err);
      };
      m.onResumed = (frame: FrameWithData) => {
        if (holder.disposed) return;
        // Nothing running any more for the reloaded conversation: nothing to wait for.
        const d = dataOf(frame);
        if (d.recovered === false && streamingRef.current?.tokens === 0 && !str(d.message_id)) {
          updateStreaming(() => null);
          writeInflight(sessionId, null);
        }
      };
      m.onPong = () => {};
    };

    initChatwire()
      .then(() => {
        if (holder.disposed) return;
        const tokenFn = async () => {
          const t = tokenRef.current;
          return typeof t === "function" ? await t() : t;
        };
        const m = new ChatWebSocketManager(sessionId, tokenFn, optionsRef.current);
        holder.manager = m;
        wire(m);
        // After a page reload: pick up the reply that was streaming, from its first token.
        const inflight = readInflight(sessionId);
        if (inflight) {
          m.resumeConversation(inflight.conversationId);
          updateStreaming(() => ({
            id: null,
            clientMessageId: inflight.clientMessageId,
            content: "",
            reasoning: "",
            tokens: 0,
            startedAt: new Date(),
          }));
        }
        setManager(m);
        m.connect().catch(() => {
          // The state change and onError already say why; nothing to add here.
        });
      })
      .catch((e: unknown) => {
        if (holder.disposed) return;
        setStatus("failed");
        setError({ code: "wasm_load_failed", message: `Could not load chatwire: ${String(e)}`, time: new Date() });
      });

    return () => scheduleDispose(holder);

    function scheduleDispose(h: Holder) {
      // Deferred: if this is StrictMode's simulated unmount, the remount cancels it.
      h.disposeTimer = setTimeout(() => {
        h.disposeTimer = undefined;
        dispose(h);
        if (holderRef.current === h) holderRef.current = null;
      }, 0);
    }
  }, [key, enabled, sessionId, updateStreaming]);

  // Countdown: the manager knows when the next attempt is; poll it while reconnecting.
  useEffect(() => {
    if (status !== "reconnecting" || !manager) return;
    const tick = () => setReconnectInMs(manager.reconnectDelayMs ?? null);
    tick();
    const id = setInterval(tick, 250);
    return () => clearInterval(id);
  }, [status, manager]);

  const send = useCallback(
    (text: string): string | null => {
      const holder = holderRef.current;
      const m = holder?.manager;
      const body = text.trim();
      if (!m || !holder || holder.disposed || !body) return null;
      const clientId = m.sendChat(body, conversationRef.current);
      writeInflight(sessionId, { conversationId: conversationRef.current, clientMessageId: clientId });
      setMessages((prev) => [
        ...prev,
        { id: clientId, role: "user", content: body, time: new Date(), conversationId: conversationRef.current },
      ]);
      updateStreaming(() => ({
        id: null,
        clientMessageId: clientId,
        content: "",
        reasoning: "",
        tokens: 0,
        startedAt: new Date(),
      }));
      return clientId;
    },
    [sessionId, updateStreaming],
  );

  /** Cancels the reply streaming, if any: sends `cancel` for it, drops its late tokens and
   *  forgets it for a reload. Returns it with the id it was cancelled by, or `null`. */
  const cancelStreaming = useCallback((): { reply: StreamingMessage; target: string } | null => {
    const holder = holderRef.current;
    const m = holder?.manager;
    const s = streamingRef.current;
    if (!m || !holder || !s) return null;
    // The relay cancels by its `message_id` or by the `client_message_id` the reply answers.
    const target = s.id ?? s.clientMessageId;
    if (target === null) return null;
    if (s.id) holder.stopped.add(s.id);
    else holder.stopPending = target; // drop the tokens of the reply whose id we have not seen yet
    m.sendMessage({ type: "cancel", data: { message_id: target } });
    writeInflight(sessionId, null);
    updateStreaming(() => null);
    return { reply: s, target };
  }, [sessionId, updateStreaming]);

  const stop = useCallback(() => {
    const cancelled = cancelStreaming();
    if (!cancelled) return;
    const { reply, target } = cancelled;
    const ended = endedReply(reply, reply.id ?? `stopped_${target}`, "stopped");
    setMessages((prev) => [...prev, ended]);
  }, [cancelStreaming]);

  const retry = useCallback(() => {
    const m = holderRef.current?.manager;
    if (!m) return;
    setError(null);
    if (m.state === "failed") m.retry();
    else if (m.state === "closed" || m.state === "idle") m.connect().catch(() => {});
  }, []);

  const dismissError = useCallback(() => setError(null), []);
  const clear = useCallback(() => {
    // A reply still streaming belongs to the conversation being left.
    cancelStreaming();
    setMessages([]);
    updateStreaming(() => null);
    if (conversationId === undefined) {
      startConversation(sessionId);
      setConversationsStarted((n) => n + 1);
    }
  }, [sessionId, conversationId, cancelStreaming, updateStreaming]);

  return useMemo(
    () => ({
      status,
      isConnected: status === "open",
      messages,
      streaming,
      reconnectInMs: status === "reconnecting" ? reconnectInMs : null,
      error,
      send,
      stop,
      retry,
      dismissError,
      clear,
      manager,
    }),
    [status, messages, streaming, reconnectInMs, error, send, stop, retry, dismissError, clear, manager],
  );
}

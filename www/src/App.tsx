// The demo chat: the seed's ChatInterface rebuilt on `chatwire/react`.

import { useDeferredValue, useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import {
  useChatSocket,
  type ChatMessage,
  type ChatSocket,
  type ChatSocketError,
  type ConnectionStatus,
  type StreamingMessage,
} from "chatwire/react";
import { readManagerOptions, readSessionId, readToken } from "./config";
import { Markdown, StreamingMarkdown } from "./Markdown";

const SUGGESTIONS = [
  "Explain WebSockets in two sentences",
  "Why write a client in Rust and WebAssembly?",
  "Give me three tips for reconnecting sockets",
];

export function App() {
  const [sessionId] = useState(readSessionId);
  const [token] = useState(readToken);
  const [options] = useState(readManagerOptions);
  const chat = useChatSocket(sessionId, token, options);

  return (
    <div className="app">
      <Header
        status={chat.status}
        reconnectInMs={chat.reconnectInMs}
        error={chat.error}
        onNewChat={chat.messages.length > 0 || chat.streaming !== null ? chat.clear : null}
      />
      <ErrorBanner chat={chat} token={token} />
      <MessageList messages={chat.messages} streaming={chat.streaming} onSuggestion={chat.send} canSend={chat.isConnected} />
      <Composer chat={chat} />
      <footer className="footer">
        <span>
          session <code>{sessionId}</code>
        </span>
        <span>
          Rust + WebAssembly client · <code>window.chatwire</code> in the console
        </span>
      </footer>
    </div>
  );
}

function statusLabel(status: ConnectionStatus, reconnectInMs: number | null, error: ChatSocketError | null): string {
  switch (status) {
    case "open":
      return "Connected";
    case "idle":
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return reconnectInMs !== null && reconnectInMs > 0
        ? `Reconnecting in ${Math.ceil(reconnectInMs / 1000)}s…`
        : "Reconnecting…";
    case "failed":
      return "Connection failed";
    case "closed":
      return error?.code === "unauthorized" ? "Not authorized" : "Disconnected";
  }
}

function Header({
  status,
  reconnectInMs,
  error,
  onNewChat,
}: {
  status: ConnectionStatus;
  reconnectInMs: number | null;
  error: ChatSocketError | null;
  /** Starts a new conversation (cancelling a reply that streams); `null` while there is nothing
   *  to leave. */
  onNewChat: (() => void) | null;
}) {
  return (
    <header className="header">
      <div className="brand">
        <div className="logo" aria-hidden="true">
          <svg viewBox="0 0 32 32" width="32" height="32">
            <rect width="32" height="32" rx="9" fill="currentColor" />
            <path d="M9 11h14M9 16h10M9 21h6" stroke="white" strokeWidth="2.5" strokeLinecap="round" />
          </svg>
        </div>
        <div>
          <h1>chatwire</h1>
          <p className="subtitle">Streaming AI chat over one resilient WebSocket</p>
        </div>
      </div>
      <div className="header-side">
        <button type="button" className="button button-quiet" data-testid="new-chat" disabled={onNewChat === null} onClick={onNewChat ?? undefined}>
          New chat
        </button>
        <div className={`status status-${status}`} data-testid="status" data-state={status} role="status" aria-live="polite">
          <span className="dot" aria-hidden="true" />
          <span className="status-label">{statusLabel(status, reconnectInMs, error)}</span>
        </div>
      </div>
    </header>
  );
}

function ErrorBanner({ chat, token }: { chat: ChatSocket; token: string }) {
  const { error, status } = chat;
  if (status === "closed" && error?.code === "unauthorized") {
    return (
      <div className="banner banner-error" data-testid="error-banner" data-code="unauthorized" role="alert">
        <div className="banner-icon" aria-hidden="true">!</div>
        <div className="banner-body">
          <strong>The relay refused this token.</strong>
          <span>
            {token === "dev" ? "The default token " : "The token "}
            <code>{token.length > 24 ? `${token.slice(0, 24)}…` : token}</code> is not accepted. Open the page with{" "}
            <code>?token=…</code> or set <code>localStorage.auth_token</code>, then reload.
          </span>
        </div>
      </div>
    );
  }
  if (status === "failed") {
    return (
      <div className="banner banner-error" data-testid="error-banner" data-code={error?.code ?? "failed"} role="alert">
        <div className="banner-icon" aria-hidden="true">!</div>
        <div className="banner-body">
          <strong>Can't reach the chat server.</strong>
          <span>{error?.message ?? "Every reconnect attempt failed."}</span>
        </div>
        <button type="button" className="button button-light" data-testid="retry" onClick={chat.retry}>
          Retry
        </button>
      </div>
    );
  }
  if (error && error.code !== "unauthorized" && status === "open" && !error.messageId) {
    return (
      <div className="banner banner-warn" data-testid="error-banner" data-code={error.code} role="alert">
        <div className="banner-icon" aria-hidden="true">!</div>
        <div className="banner-body">
          <strong>{error.code.replace(/_/g, " ")}</strong>
          <span>{error.message}</span>
        </div>
        <button type="button" className="icon-button" aria-label="Dismiss" onClick={chat.dismissError}>
          ×
        </button>
      </div>
    );
  }
  return null;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function MessageList({
  messages,
  streaming,
  onSuggestion,
  canSend,
}: {
  messages: ChatMessage[];
  streaming: StreamingMessage | null;
  onSuggestion: (text: string) => unknown;
  canSend: boolean;
}) {
  const endRef = useRef<HTMLDivElement>(null);
  const streamLength = streaming ? streaming.content.length + streaming.reasoning.length : 0;
  useLayoutEffect(() => {
    endRef.current?.scrollIntoView({ block: "end" });
  }, [messages.length, streamLength]);

  return (
    <main className="messages" data-testid="messages" aria-live="polite">
      {messages.length === 0 && !streaming && (
        <div className="empty">
          <div className="empty-title">Ask anything</div>
          <p>Replies stream in token by token. Kill the server mid-answer and watch the client reconnect.</p>
          <div className="chips">
            {SUGGESTIONS.map((s) => (
              <button key={s} type="button" className="chip" disabled={!canSend} onClick={() => onSuggestion(s)}>
                {s}
              </button>
            ))}
          </div>
        </div>
      )}
      {messages.map((m) => (
        <MessageBubble key={`${m.role}-${m.id}`} message={m} />
      ))}
      {streaming && <StreamingBubble streaming={streaming} />}
      <div ref={endRef} />
    </main>
  );
}

function Avatar({ role }: { role: ChatMessage["role"] }) {
  return (
    <div className={`avatar avatar-${role}`} aria-hidden="true">
      {role === "user" ? (
        <svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor">
          <circle cx="12" cy="8" r="4" />
          <path d="M4 20c0-4 3.6-6.5 8-6.5s8 2.5 8 6.5z" />
        </svg>
      ) : role === "error" ? (
        "!"
      ) : (
        "AI"
      )}
    </div>
  );
}

function MessageBubble({ message }: { message: ChatMessage }) {
  const who = message.role === "user" ? "You" : message.role === "error" ? "Error" : "Assistant";
  return (
    <article
      className={`message message-${message.role}`}
      data-testid="message"
      data-role={message.role}
      data-cut={message.cut ?? ""}
    >
      <Avatar role={message.role} />
      <div className="message-main">
        <div className="meta">
          <span className="who">{who}</span>
          <time dateTime={message.time.toISOString()}>{timeFormat.format(message.time)}</time>
          {message.cut === "stopped" && <span className="tag">Stopped</span>}
          {message.cut === "interrupted" && <span className="tag tag-warn">Interrupted</span>}
          {message.finishReason === "length" && <span className="tag">Truncated</span>}
        </div>
        {message.reasoning && (
          <details className="reasoning-details" data-testid="message-reasoning">
            <summary>Reasoning</summary>
            <div className="reasoning">{message.reasoning}</div>
          </details>
        )}
        <div className="bubble" data-testid="message-content">
          {!message.content ? (
            <em className="muted">(no text)</em>
          ) : message.role === "assistant" ? (
            <Markdown text={message.content} />
          ) : (
            message.content
          )}
        </div>
      </div>
    </article>
  );
}

function StreamingBubble({ streaming }: { streaming: StreamingMessage }) {
  const waiting = streaming.content === "";
  // Deferred: a burst of tokens costs one render of the Markdown, not one each, and typing
  // and scrolling stay responsive.
  const content = useDeferredValue(streaming.content);
  return (
    <article className="message message-assistant streaming" data-testid="streaming" aria-busy="true">
      <Avatar role="assistant" />
      <div className="message-main">
        <div className="meta">
          <span className="who">Assistant</span>
          <span className="typing-label">{waiting ? (streaming.reasoning ? "thinking…" : "is typing…") : "is typing…"}</span>
        </div>
        {streaming.reasoning && (
          <div className="reasoning" data-testid="reasoning">
            {streaming.reasoning}
          </div>
        )}
        <div className="bubble">
          {waiting ? (
            <span className="typing" data-testid="typing-indicator" aria-label="Assistant is typing">
              <i />
              <i />
              <i />
            </span>
          ) : (
            <div className="streaming-content" data-testid="streaming-content">
              <StreamingMarkdown text={content} />
            </div>
          )}
        </div>
      </div>
    </article>
  );
}

/** Why the composer can't send right now, or `null` when it can. */
function blockedReason(chat: ChatSocket): string | null {
  switch (chat.status) {
    case "open":
      return null;
    case "idle":
    case "connecting":
      return "Connecting to the chat server…";
    case "reconnecting":
      return chat.reconnectInMs !== null && chat.reconnectInMs > 0
        ? `Connection lost — reconnecting in ${Math.ceil(chat.reconnectInMs / 1000)}s. You can send once it's back.`
        : "Connection lost — reconnecting…";
    case "failed":
      return "Offline — press Retry above to reconnect.";
    case "closed":
      return chat.error?.code === "unauthorized"
        ? "Not authorized — sending is disabled until you use a valid token."
        : "Disconnected.";
  }
}

function Composer({ chat }: { chat: ChatSocket }) {
  const [text, setText] = useState("");
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const reason = blockedReason(chat);
  const streaming = chat.streaming !== null;
  const canSend = reason === null && !streaming && text.trim() !== "";

  useEffect(() => {
    if (reason === null) inputRef.current?.focus();
  }, [reason]);

  useLayoutEffect(() => {
    const el = inputRef.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 160)}px`;
  }, [text]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!canSend) return;
    if (chat.send(text) !== null) setText("");
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <div className={`composer-box${reason ? " is-disabled" : ""}`}>
        <textarea
          ref={inputRef}
          data-testid="input"
          rows={1}
          value={text}
          disabled={reason !== null}
          placeholder={reason ? "Sending is unavailable" : "Message the assistant…"}
          aria-describedby="composer-hint"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        {streaming ? (
          <button type="button" className="button button-stop" data-testid="stop" onClick={chat.stop}>
            <span className="stop-square" aria-hidden="true" />
            Stop
          </button>
        ) : (
          <button type="submit" className="button button-primary" data-testid="send" disabled={!canSend}>
            Send
          </button>
        )}
      </div>
      <div
        id="composer-hint"
        className={`hint${reason ? " hint-blocked" : ""}`}
        data-testid="composer-hint"
        data-blocked={reason ? "true" : "false"}
      >
        {reason ?? (streaming ? "Generating a reply — press Stop to interrupt it." : "Enter to send · Shift+Enter for a new line")}
      </div>
    </form>
  );
}

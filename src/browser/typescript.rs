//! TypeScript declarations for the option bag and every frame shape, emitted into
//! `pkg/chatwire.d.ts` beside the generated class.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Where the manager stands; see the README for the transitions. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed" | "failed";

/** A token string, or a function called before every (re)connect that returns one. */
export type AuthToken = string | (() => string | Promise<string>);

/** Options of `new ChatWebSocketManager(sessionId, authToken, options)`; all optional. */
export interface ChatWebSocketOptions {
  /** Base URL such as `ws://localhost:8000`; default: the page's host (ws:/wss: to match). */
  url?: string;
  /** Reconnect attempts after an unexpected close before `failed` (default 5). */
  maxReconnectAttempts?: number;
  /** First reconnect delay; doubles per attempt (default 1000). */
  baseDelayMs?: number;
  /** Cap for any reconnect delay (default 30000). */
  maxDelayMs?: number;
  /** Fraction 0..1 of each delay that is randomised (default 0). */
  jitter?: number;
  /** Ping period; 0 turns the heartbeat off (default 30000). */
  heartbeatIntervalMs?: number;
  /** How long to wait for any frame after a ping before reconnecting (default 10000). */
  heartbeatTimeoutMs?: number;
  /** Frames queued while not open; 0 queues none (default 100). */
  outboxLimit?: number;
}

/** Token usage reported by the model. */
export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  [key: string]: unknown;
}

export interface PongFrame {
  type: "pong";
  data?: Record<string, unknown>;
}

export interface StreamTokenFrame {
  type: "stream_token";
  data: {
    message_id: string;
    token: string;
    seq?: number;
    /** Position among all frames of the generation, from 1 (the manager drops repeats). */
    offset?: number;
    /** On a generation's first frame: the `client_message_id` of the chat it answers. */
    client_message_id?: string;
    [key: string]: unknown;
  };
}

export interface StreamCompleteFrame {
  type: "stream_complete";
  data: {
    message_id: string;
    /** The full reply; filled in by the manager when the server leaves it out. */
    content: string;
    conversation_id?: string;
    client_message_id?: string;
    finish_reason?: string | null;
    usage?: Usage;
    offset?: number;
    [key: string]: unknown;
  };
}

export interface ChatMessageFrame {
  type: "chat_message";
  data: {
    content: string;
    message_id?: string;
    role?: "assistant" | "user" | "system";
    [key: string]: unknown;
  };
}

/** Codes the manager itself reports; servers add their own (see PROTOCOL.md). */
export type ClientErrorCode =
  | "bad_frame"
  | "outbox_full"
  | "reconnect_failed"
  | "unauthorized"
  | "policy_violation"
  | "invalid_url"
  | "token_failed"
  | "disconnected"
  | "stream_lost";

export interface ErrorFrame {
  type: "error";
  data: {
    code: ClientErrorCode | (string & {});
    message: string;
    message_id?: string;
    client_message_id?: string;
    retryable?: boolean;
    /** For `stream_lost` and `stream_expired`: the text received before the reply was lost. */
    content?: string;
    offset?: number;
    /** For `bad_frame`: the frame as received. */
    raw?: unknown;
    [key: string]: unknown;
  };
}

/** The relay's answer to a `resume` (sent by the manager after every reconnect). */
export interface ResumedFrame {
  type: "resumed";
  data: {
    message_id?: string;
    client_message_id?: string;
    conversation_id?: string;
    /** The offset the frames that follow continue from. */
    offset: number;
    /** Whether the relay still had the reply; when not, `onError` reports it lost. */
    recovered: boolean;
  };
}

/** Any frame whose `type` has no callback of its own (e.g. `reasoning_token`). */
export interface UnknownFrame {
  type: string;
  data?: unknown;
}

export type ServerFrame =
  | PongFrame
  | StreamTokenFrame
  | StreamCompleteFrame
  | ChatMessageFrame
  | ErrorFrame
  | ResumedFrame
  | UnknownFrame;

export interface ChatMessageRequest {
  type: "chat_message";
  data: { message: string; conversation_id?: string; client_message_id?: string };
}

export interface CancelRequest {
  type: "cancel";
  data: { message_id: string };
}

export interface ResumeRequest {
  type: "resume";
  data: { message_id?: string; client_message_id?: string; conversation_id?: string; offset: number };
}

export interface PingRequest {
  type: "ping";
  data?: Record<string, unknown>;
}

/** What `sendMessage` accepts: the protocol's requests, or any frame with a string type. */
export type ClientFrame =
  | ChatMessageRequest
  | CancelRequest
  | ResumeRequest
  | PingRequest
  | { type: string; data?: unknown };

/** The `Error` a `connect()` promise rejects with. */
export interface ChatwireError extends Error {
  code: ClientErrorCode;
}
"#;

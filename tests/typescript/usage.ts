// Type-checked (never run) against pkg/chatwire.d.ts by `npm run typecheck`: the
// declarations must accept what the README shows and refuse what would be a bug.
import init, {
  ChatWebSocketManager,
  type ChatWebSocketOptions,
  type ConnectionState,
  type ErrorFrame,
  type StreamCompleteFrame,
  type StreamTokenFrame,
} from "chatwire";

export async function usage(): Promise<string> {
  await init();
  const options: ChatWebSocketOptions = {
    url: "ws://localhost:8000",
    maxReconnectAttempts: 5,
    baseDelayMs: 1000,
    maxDelayMs: 30_000,
    jitter: 0.2,
    heartbeatIntervalMs: 30_000,
    heartbeatTimeoutMs: 10_000,
    outboxLimit: 100,
  };
  const m = new ChatWebSocketManager("session_1", "token", options);
  const refreshing = new ChatWebSocketManager("s", async () => "fresh-token");
  const plain = new ChatWebSocketManager("s", () => "sync-token");

  let text = "";
  m.onStreamToken = (frame: StreamTokenFrame) => {
    text += frame.data.token;
    const id: string = frame.data.message_id;
    void id;
  };
  m.onStreamComplete = (frame: StreamCompleteFrame) => {
    const full: string = frame.data.content;
    const reason: string | null | undefined = frame.data.finish_reason;
    void full, reason;
  };
  m.onChatMessage = (frame) => void frame.data.content.toUpperCase();
  m.onError = (frame: ErrorFrame) => {
    if (frame.data.code === "reconnect_failed" || frame.data.code === "busy") void frame.data.message;
  };
  m.onPong = (frame) => void frame.type;
  m.onUnknown = (frame) => void frame.type.length;
  m.onStateChange = (state: ConnectionState) => {
    const known: "idle" | "connecting" | "open" | "reconnecting" | "closed" | "failed" = state;
    void known;
  };
  m.onStateChange = null;

  await m.connect();
  const sent: boolean = m.sendMessage({
    type: "chat_message",
    data: { message: "hi", conversation_id: "c1" },
  });
  m.sendMessage({ type: "cancel", data: { message_id: "m1" } });
  m.sendMessage({ type: "ping" });
  const id: string = m.sendChat("hi", "c1");
  m.sendChat("no conversation");
  const state: ConnectionState = m.state;
  const connected: boolean = m.isConnected;
  const countdown: number | undefined = m.reconnectDelayMs;
  const queued: number = m.queuedFrames;
  const retried: boolean = m.retry();
  m.disconnect();
  m.free();
  refreshing.free();
  plain.free();
  void sent, state, connected, countdown, queued, retried;

  // @ts-expect-error: options are checked, a typo is an error
  new ChatWebSocketManager("s", "t", { maxReconectAttempts: 3 });
  // @ts-expect-error: numbers, not strings
  new ChatWebSocketManager("s", "t", { baseDelayMs: "20" });
  // @ts-expect-error: the token is a string or a function returning one
  new ChatWebSocketManager("s", 42);
  // @ts-expect-error: a frame needs a type
  m.sendMessage({ data: {} });
  // @ts-expect-error: stream tokens carry a string token
  m.onStreamToken = (frame: { data: { token: number } }) => void frame;
  // @ts-expect-error: state is a closed union
  const wrong: "connected" = m.state;
  void wrong;
  return id + text;
}

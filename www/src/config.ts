// Where the page gets its session id and token: the URL first, then browser storage.

/** `?token=` wins, then localStorage `auth_token`, then `dev` (the relay's dev mode accepts any). */
export function readToken(): string {
  const fromUrl = new URLSearchParams(location.search).get("token");
  if (fromUrl) return fromUrl;
  try {
    return localStorage.getItem("auth_token") || "dev";
  } catch {
    return "dev";
  }
}

/** `?session=` wins; otherwise one id per browser tab, kept across reloads. */
export function readSessionId(): string {
  const fromUrl = new URLSearchParams(location.search).get("session");
  if (fromUrl) return fromUrl;
  const key = "chatwire_session_id";
  try {
    const known = sessionStorage.getItem(key);
    if (known) return known;
    const made = `session_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    sessionStorage.setItem(key, made);
    return made;
  } catch {
    return `session_${Date.now().toString(36)}`;
  }
}

/** Reconnect tuning from the URL, e.g. `?maxReconnectAttempts=2&baseDelayMs=300` to see the
 *  failure banner quickly. Only these numeric options are read; anything else is ignored. */
export function readManagerOptions(): { baseDelayMs?: number; maxDelayMs?: number; maxReconnectAttempts?: number } {
  const q = new URLSearchParams(location.search);
  const out: { baseDelayMs?: number; maxDelayMs?: number; maxReconnectAttempts?: number } = {};
  for (const key of ["baseDelayMs", "maxDelayMs", "maxReconnectAttempts"] as const) {
    const raw = q.get(key);
    const n = raw === null ? NaN : Number(raw);
    if (Number.isInteger(n) && n >= 0) out[key] = n;
  }
  return out;
}

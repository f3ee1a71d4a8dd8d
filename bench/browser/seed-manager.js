// The plain-JavaScript manager chatwire replaces, written like the seed
// (/work/shared/reference/seed-frontend-fix.md): JSON.parse per frame and a switch on
// `type`. Logging is left out (the seed only logs on pong/unknown frames, which this
// benchmark never sends) and disconnect() also stops reconnecting, so runs do not leak
// sockets into each other; the per-frame path is the seed's.
export class SeedManager {
  constructor(sessionId, authToken, baseUrl) {
    this.ws = null;
    this.sessionId = sessionId;
    this.authToken = authToken;
    this.baseUrl = baseUrl;
    this.reconnectAttempts = 0;
    this.maxReconnectAttempts = 5;
    this.closedByUser = false;
    this.onStreamToken = undefined;
    this.onStreamComplete = undefined;
    this.onChatMessage = undefined;
    this.onError = undefined;
  }

  connect() {
    return new Promise((resolve, reject) => {
      try {
        const wsUrl = `${this.baseUrl}/ws/chat/${this.sessionId}/?token=${this.authToken}`;
        this.ws = new WebSocket(wsUrl);
        this.ws.onopen = () => {
          this.reconnectAttempts = 0;
          resolve();
        };
        this.ws.onmessage = (event) => {
          try {
            const data = JSON.parse(event.data);
            this.handleMessage(data);
          } catch (error) {
            console.error("Failed to parse message:", error);
          }
        };
        this.ws.onerror = (error) => reject(error);
        this.ws.onclose = () => this.attemptReconnect();
      } catch (error) {
        reject(error);
      }
    });
  }

  handleMessage(data) {
    switch (data.type) {
      case "pong":
        break;
      case "stream_token":
        this.onStreamToken?.(data);
        break;
      case "stream_complete":
        this.onStreamComplete?.(data);
        break;
      case "chat_message":
        this.onChatMessage?.(data);
        break;
      case "error":
        this.onError?.(data);
        break;
      default:
        console.debug("Unknown message type:", data.type);
    }
  }

  sendMessage(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
    }
  }

  attemptReconnect() {
    if (this.closedByUser) return;
    if (this.reconnectAttempts < this.maxReconnectAttempts) {
      const delay = Math.pow(2, this.reconnectAttempts) * 1000;
      setTimeout(() => {
        this.reconnectAttempts++;
        this.connect();
      }, delay);
    }
  }

  disconnect() {
    this.closedByUser = true;
    if (this.ws) {
      this.ws.close();
      this.ws = null;
    }
  }
}

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import * as chatwire from "chatwire";
import { initChatwire } from "chatwire/react";
import { App } from "./App";
import "./styles.css";

declare global {
  interface Window {
    /** The package, for the console: `const m = new chatwire.ChatWebSocketManager("test_session", "dev"); await m.connect()`. */
    chatwire: typeof chatwire;
  }
}

window.chatwire = chatwire;
// Start fetching the wasm now; the hook awaits the same promise.
void initChatwire().catch((e: unknown) => console.error("chatwire: wasm failed to load", e));

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

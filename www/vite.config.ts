import { defineConfig } from "vite";

// The relay serves dist/ at `/`; relative asset paths keep the build working under any prefix.
export default defineConfig({
  base: "./",
  // Pre-bundling would move the glue away from chatwire_bg.wasm and break its
  // `new URL("chatwire_bg.wasm", import.meta.url)` lookup in `vite dev`.
  optimizeDeps: { exclude: ["chatwire"] },
  // `chatwire` is a `file:` link to ../pkg, whose `react.js` imports react: resolve that to
  // this app's copy (one React), not a lookup from pkg/'s real path.
  resolve: { dedupe: ["react", "react-dom"] },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", assetsInlineLimit: 0 },
  server: {
    // `npm run dev` talks to a relay on :8000 through Vite's proxy.
    proxy: { "/ws": { target: "ws://127.0.0.1:8000", ws: true } },
    fs: { allow: [".."] },
  },
});

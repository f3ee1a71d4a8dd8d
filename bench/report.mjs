// Writes BENCHMARKS.md (and bench/results/latest.json) from the results of the last
// `npm run bench`: bench/results/{size,browser,relay}.json. Every figure in the document
// comes from those files; the notes compute their "by how much" from them too.
import { execSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { BUDGET_GZIP_BYTES, GOAL_GZIP_BYTES } from "../scripts/size.mjs";

const root = new URL("../", import.meta.url);
const read = (name) => JSON.parse(readFileSync(new URL(`bench/results/${name}.json`, root), "utf8"));
/** The previous report's results: a part not re-run this time (say only relay-load ran) is taken from there, and the document says so. */
let previous = {};
try {
  previous = read("latest");
} catch {
  previous = {};
}
const reused = [];
/** bench/results/NAME.json, else the previous report's `key` part; `optional` parts (which older reports lack) are null when neither has them. */
const readPart = (name, { key = name, optional = false } = {}) => {
  try {
    return read(name);
  } catch {
    if (!previous[key]) {
      if (optional) return null;
      throw new Error(`bench/results/${name}.json is missing (and not in latest.json): run npm run bench`);
    }
    reused.push(name);
    return previous[key];
  }
};
const size = readPart("size");
const browser = readPart("browser");
const relay = readPart("relay");
/** The relay's phases again over an https:// upstream (run.sh's second relay-load run). */
const relayTls = readPart("relay-tls", { key: "relayTls", optional: true });
/** Written by run.sh: when the run started and ended, and the load average at its start. */
let run = {};
try {
  run = read("run");
} catch {
  run = {};
}

const sh = (cmd) => {
  try {
    return execSync(cmd, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
};
const cpuModel = (readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.+)$/m) ?? [])[1] ?? "unknown";
const machine = {
  cores: os.cpus().length,
  cpu: cpuModel,
  memoryGiB: (os.totalmem() / 2 ** 30).toFixed(1),
  os: sh("sh -c '. /etc/os-release && echo $PRETTY_NAME'"),
  kernel: os.release(),
  node: process.version,
  rustc: sh("rustc -V"),
  chromium: browser.chromium,
  commit: sh("git rev-parse --short HEAD"),
  date: new Date((run.finished ?? Date.now() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
  loadavgAtStart: run.loadavg ?? "unknown",
  minutes: run.started && run.finished ? (run.finished - run.started) / 60 : null,
};

// ---- formatting helpers
const int = (n) => Math.round(n).toLocaleString("en-US");
const kb = (bytes) => `${(Math.abs(bytes) < 50 ? 0 : bytes / 1000).toFixed(1)} KB`;
const us = (x) => (Math.abs(x) >= 1000 ? `${(x / 1000).toFixed(1)} ms` : `${Math.round(x)} µs`);
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)} %`;
const met = (ok) => (ok ? "met" : "**missed**");

// ---- figures
const peers = size.peers;
const sio = peers["socket.io-client"];
const cw = size.chatwire;
const d = browser.dispatch;
const memC = browser.memory.chatwire;
const memS = browser.memory.seed;
// Relay (bench/relay-load, issue 12): each figure is the median over the run's repetitions.
const reps = relay.repeats ?? [];
const idle = relay.idle;
const GOAL_ADDED_P99_US = 500;
const GOAL_ADDED_P99_1000_US = 5_000;
/** The added-p99 goal of each paced load, by its number of streams. */
const ADDED_P99_GOAL_US = { 100: GOAL_ADDED_P99_US, 1000: GOAL_ADDED_P99_1000_US };
const GOAL_TPUT = 200_000;
const GOAL_IDLE = 6 * 1024;
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** The rows of the paced phase at `streams` in `repeats`, one per repetition. */
const pacedRows = (repeats, streams) => repeats.map((r) => (r.latency ?? []).find((x) => x.streams === streams)).filter(Boolean);
/** The unpaced phase of each repetition in `repeats`. */
const throughputRows = (repeats) => repeats.map((r) => r.throughput).filter(Boolean);
const paced = (streams) => pacedRows(reps, streams);
const tputs = throughputRows(reps);
/** Median of f over rows, with the spread when there are several: "1.2 ms (1.1–1.4)". */
const fig = (rows, f, fmt) => {
  const xs = rows.map(f).filter(Number.isFinite);
  if (!xs.length) return "n/a";
  const m = fmt(median(xs));
  return xs.length > 1 ? `${m} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : m;
};
const med = (rows, f) => median(rows.map(f));
// The same phases through a relay keeping its shared state in Redis (issue 11), interleaved
// with the in-memory repetitions in the same run.
const redisReps = relay.redis?.repeats ?? [];
const redisPaced = (streams) => pacedRows(redisReps, streams);
const redisTputs = throughputRows(redisReps);
// The same phases through relay-floor (bench/relay-load/src/bin/relay-floor.rs), a minimal
// forwarder run in the relay's place, interleaved in the same run: what any relay adds here.
const floorReps = relay.floor?.repeats ?? [];
const floorPaced = (streams) => pacedRows(floorReps, streams);
const floorTputs = throughputRows(floorReps);
// The same phases over an https:// upstream (the fake upstream serving TLS, HTTP/1.1).
const tlsReps = relayTls?.repeats ?? [];
const tlsPaced = (streams) => pacedRows(tlsReps, streams);
const tlsTputs = throughputRows(tlsReps);
const tlsRun = relayTls?.run ?? {};
const p100 = paced(100);
const p1000 = paced(1000);
const sum = (rows, f) => rows.reduce((a, r) => a + f(r), 0);
const cpuMtok = (x) => (x > 0 ? x.toFixed(2) : "—");
/** "Flat": JS heap growth within this is counted as noise (the seed manager, measured the same way in the same page, is the baseline to compare with). */
const HEAP_NOISE = 16 * 1024;
const WASM_NOISE = 0;

const growth = (samples, key) => samples.at(-1)[key] - samples[0][key];
const flat = (samples) =>
  growth(samples, "jsHeapUsed") <= HEAP_NOISE && growth(samples, "wasmMemory") <= WASM_NOISE;
const memCyclesFlat = flat(memC.cycles);
const memFramesFlat = flat(memC.frames);
// Second flood round alone: tells a one-off high-water mark from steady growth.
const secondRound = (s, key) => s.frames[2][key] - s.frames[1][key];

const repRows = reps
  .map((r, i) => {
    const a = (r.latency ?? []).find((x) => x.streams === 100);
    const b = (r.latency ?? []).find((x) => x.streams === 1000);
    const t = r.throughput;
    return `| ${i + 1} | ${b?.direct.loadavg_start ?? a?.direct.loadavg_start ?? "?"} | ${a ? us(a.added_p99_us) : "n/a"} | ${b ? `${us(b.relayed.latency.p99_us)} (direct ${us(b.direct.latency.p99_us)})` : "n/a"} | ${t ? `${int(t.relayed.tokens_per_s)} (${t.relayed.errors} errors)` : "n/a"} | ${t ? int(t.direct.tokens_per_s) : "n/a"} | ${t ? cpuMtok(t.relayed.relay_cpu_s_per_mtok) : "n/a"} |`;
  })
  .join("\n");

const memRows = (label, s, axis) =>
  s[axis]
    .map((x, i, all) => {
      const rate = i === 0 ? 0 : (x.jsHeapUsed - all[i - 1].jsHeapUsed) / (x[axis] - all[i - 1][axis]);
      const shown = Math.abs(rate) < 5e-5 ? 0 : rate;
      const step = i === 0 ? "" : shown.toFixed(axis === "cycles" ? 1 : 4);
      return `| ${label} | ${int(x[axis])} | ${int(x.jsHeapUsed)} | ${step} | ${s === memS ? "—" : int(x.wasmMemory)} |`;
    })
    .join("\n");

const sectionText = Object.entries(cw.wasmSections ?? {})
  .sort((a, b) => b[1] - a[1])
  .map(([n, b]) => `${n} ${int(b)}`)
  .join(", ");

// ---- the document
const sizeOk = cw.gzip <= BUDGET_GZIP_BYTES;
const dispatchOk = d.ratio >= 1;
const sc = d.medianScriptUs;
/** Speed ratio on main-thread script time (seed time / chatwire time; ≥ 1 means chatwire is cheaper). */
const scriptRatio = sc.seed / sc.chatwire;
const scriptOk = scriptRatio >= 1;
const added100 = med(p100, (r) => r.added_p99_us);
const added1000 = med(p1000, (r) => r.added_p99_us);
const tputRelay = med(tputs, (t) => t.relayed.tokens_per_s);
const tputErrors = sum(tputs, (t) => t.relayed.errors);
const latOk = added100 < GOAL_ADDED_P99_US;
const lat1000Ok = added1000 < GOAL_ADDED_P99_1000_US;
const tputOk = tputRelay >= GOAL_TPUT && tputErrors === 0;
// Whether each latency goal is within reach of any relay here: the floor's added p99 against it.
const floorAdded = { 100: med(floorPaced(100), (r) => r.added_p99_us), 1000: med(floorPaced(1000), (r) => r.added_p99_us) };
const relayAdded = { 100: added100, 1000: added1000 };
const floorVerdicts = [100, 1000]
  .filter((n) => Number.isFinite(floorAdded[n]))
  .map((n) => {
    const goal = ADDED_P99_GOAL_US[n];
    return floorAdded[n] >= goal
      ? `- At ${int(n)} streams the floor alone adds ${us(floorAdded[n])} at p99, over the goal of ${us(goal)}: on this machine, with the load generator on the same cores, the goal is out of reach for any relay.`
      : `- At ${int(n)} streams the floor adds ${us(floorAdded[n])} at p99, under the goal of ${us(goal)}: the goal is within reach here, and the relay's own work adds ${us(relayAdded[n] - floorAdded[n])} more.`;
  });
/** Where the floor's added p99 at `n` streams leaves the goal, for the notes. */
const floorReach = (n) =>
  !Number.isFinite(floorAdded[n])
    ? "(the floor was not measured in this run)"
    : floorAdded[n] >= ADDED_P99_GOAL_US[n]
      ? `over the goal: with the load generator and its upstream on the same ${machine.cores} cores, the goal is out of reach for any relay on this machine`
      : "under the goal: it is within reach on this machine, and what misses it is the relay's own work";
/** The relay's added p99 at `n` streams against the floor's, for the notes. */
const relayVsFloor = (n) =>
  !Number.isFinite(floorAdded[n])
    ? "no floor to compare with"
    : relayAdded[n] >= floorAdded[n]
      ? `${us(relayAdded[n] - floorAdded[n])} more than the floor`
      : `${us(floorAdded[n] - relayAdded[n])} less than the floor`;
const idleOk = idle.per_connection_bytes <= GOAL_IDLE;
const relayRun = relay.run ?? {};
const relayDate = relayRun.finished ? new Date(relayRun.finished * 1000).toISOString().replace(/\.\d+Z$/, "Z") : "unknown";
const relayOpts = relayRun.options ?? {};

const md = `# chatwire benchmarks

chatwire against what a user would pick instead, measured in one run on one machine.
**Generated by \`npm run bench\`** (\`bench/run.sh\` → \`bench/report.mjs\`) from the results in
\`bench/results/latest.json\`; do not edit the figures by hand. The goals are the issues' (5: memory; 9: bundle, dispatch; 12: relay).

- Machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB RAM, ${machine.os}, Linux ${machine.kernel}
- Tools: Node ${machine.node}, ${machine.rustc}, ${machine.chromium} (headless, system build)
- Commit: \`${machine.commit}\` (plus uncommitted changes in the shared tree, if any), run ${machine.date}
- Command: \`npm run bench\`${machine.minutes ? ` (this run took ${machine.minutes.toFixed(1)} minutes)` : ""}; needs \`pkg/\` built by \`npm run build:pkg\`
- Parts: \`node bench/size.mjs\`, \`node bench/browser/run.mjs\`, \`target/server/relay-load --help\`;
  \`node bench/report.mjs\` rewrites this file from \`bench/results/\`
- Load average when the run started: ${machine.loadavgAtStart} (a shared machine: other work running at the same time adds noise, most visible in the relay's tail latencies)${reused.length ? `
- This report re-ran only part of the benchmark: ${reused.join(" and ")} figures are carried over from the previous report's \`bench/results/latest.json\`; §4 says when its relay figures were measured` : ""}

## Summary

| Figure | chatwire | socket.io-client ${sio.version} | partysocket ${peers.partysocket.version} | reconnecting-websocket ${peers["reconnecting-websocket"].version} | seed-style JS manager | ratio | goal | |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
| Bundle, min (bytes) | ${int(cw.raw)} | ${int(sio.raw)} | ${int(peers.partysocket.raw)} | ${int(peers["reconnecting-websocket"].raw)} | | ${(cw.raw / sio.raw).toFixed(2)} × socket.io | | |
| Bundle, gzip -9 (bytes) | ${int(cw.gzip)} | ${int(sio.gzip)} | ${int(peers.partysocket.gzip)} | ${int(peers["reconnecting-websocket"].gzip)} | | ${(cw.gzip / sio.gzip).toFixed(2)} × socket.io | ≤ ${int(BUDGET_GZIP_BYTES)} | ${met(sizeOk)} |
| Bundle, brotli (bytes) | ${int(cw.brotli)} | ${int(sio.brotli)} | ${int(peers.partysocket.brotli)} | ${int(peers["reconnecting-websocket"].brotli)} | | ${(cw.brotli / sio.brotli).toFixed(2)} × socket.io | | |
| Dispatch, frames/s (median of ${d.runs}) | ${int(d.chatwireMedianFps)} | | | | ${int(d.seedMedianFps)} | ${d.ratio.toFixed(2)} | ≥ 1.0 | ${met(dispatchOk)} |
| Dispatch, main-thread script µs per frame (median) | ${sc.chatwire.toFixed(2)} | | | | ${sc.seed.toFixed(2)} | ${scriptRatio.toFixed(2)} | ≥ 1.0 | ${met(scriptOk)} |
| JS heap growth, ${int(memC.cycles.at(-1).cycles)} connect/close cycles | ${kb(growth(memC.cycles, "jsHeapUsed"))} | | | | ${kb(growth(memS.cycles, "jsHeapUsed"))} | | flat | ${met(growth(memC.cycles, "jsHeapUsed") <= HEAP_NOISE)} |
| wasm memory growth, same cycles | ${kb(growth(memC.cycles, "wasmMemory"))} | | | | — | | flat | ${met(growth(memC.cycles, "wasmMemory") <= WASM_NOISE)} |
| JS heap growth, ${int(memC.frames[1].frames)} frames (×2) | ${kb(growth(memC.frames, "jsHeapUsed"))} | | | | ${kb(growth(memS.frames, "jsHeapUsed"))} | | flat | ${met(growth(memC.frames, "jsHeapUsed") <= HEAP_NOISE)} |
| wasm memory growth, same frames | ${kb(growth(memC.frames, "wasmMemory"))} | | | | — | | flat | ${met(growth(memC.frames, "wasmMemory") <= WASM_NOISE)} |
| Relay: added p99 per token, 100 streams × 100 tok/s | ${us(added100)} | | | | | | < 0.5 ms | ${met(latOk)} |
| Relay: added p99 per token, 1,000 streams × 100 tok/s | ${us(added1000)} | | | | | | < 5 ms | ${met(lat1000Ok)} |
| Relay: tokens/s, ${int(tputs[0]?.streams ?? 0)} unpaced streams × ${int(tputs[0]?.tokens_per_stream ?? 0)} tokens | ${int(tputRelay)} (${tputErrors} errors) | | | | | | ≥ 200,000, 0 errors | ${met(tputOk)} |
| Relay: RSS per idle WebSocket, ${int(idle.connections)} open | ${int(idle.per_connection_bytes)} B | | | | | | ≤ 6 KiB | ${met(idleOk)} |

## 1. Bundle size

What a browser downloads. chatwire: \`pkg/chatwire_bg.wasm\` plus \`pkg/chatwire.js\` bundled and
minified by esbuild (\`scripts/size.mjs\`). Peers: a one-line entry re-exporting the client's
main export (\`io\`, \`PartySocket\`, the default \`ReconnectingWebSocket\`), bundled by esbuild
\`--bundle --minify --format=esm --platform=browser\`. Compression: gzip -9 and brotli quality 11.

| | min | gzip -9 | brotli |
| --- | ---: | ---: | ---: |
| chatwire: wasm | ${int(cw.parts.wasmRaw)} | ${int(cw.parts.wasmGzip)} | ${int(cw.parts.wasmBrotli)} |
| chatwire: JS glue | ${int(cw.parts.jsRaw)} | ${int(cw.parts.jsGzip)} | ${int(cw.parts.jsBrotli)} |
| **chatwire total** | **${int(cw.raw)}** | **${int(cw.gzip)}** | **${int(cw.brotli)}** |
${Object.entries(peers).map(([n, p]) => `| ${n} ${p.version} | ${int(p.raw)} | ${int(p.gzip)} | ${int(p.brotli)} |`).join("\n")}

${sizeOk ? `chatwire is within issue 9's ${int(BUDGET_GZIP_BYTES)}-byte budget (${int(BUDGET_GZIP_BYTES - cw.gzip)} bytes to spare)` : `**Budget missed by ${int(cw.gzip - BUDGET_GZIP_BYTES)} bytes gzip** (${int(cw.gzip)} vs issue 9's ${int(BUDGET_GZIP_BYTES)})`}; ${cw.gzip <= GOAL_GZIP_BYTES ? "within" : `${int(cw.gzip - GOAL_GZIP_BYTES)} bytes over`} the ${int(GOAL_GZIP_BYTES)}-byte goal (socket.io-client). Both figures come from \`scripts/size.mjs\`, which \`scripts/test.sh\` runs to enforce the ceiling. The wasm module is ${Math.round((100 * cw.parts.wasmGzip) / cw.gzip)} % of the gzip bytes; its sections (raw bytes): ${sectionText}. README "Size" says where the bytes go; this benchmark only reports them.
reconnecting-websocket and partysocket are smaller because they do less: no frame
decoding, dispatch by type, stream accumulation, outbox or heartbeat; socket.io-client
brings its own protocol (Engine.IO) that the chatwire relay does not speak.

## 2. Dispatch throughput in headless Chromium

An in-page WebSocket stand-in (\`bench/browser/fake-socket.js\`) hands each manager ${int(d.frames)}
\`{"type":"stream_token","data":{"message_id":"m1","token":"tok","seq":i}}\` frames as
\`MessageEvent\`s, 1,024 per task, as fast as the page takes them, then one \`stream_complete\`: no
network, so what is measured is what each manager costs per frame on the main thread (a real
socket caps every manager at Chromium's own delivery rate, which measures the harness). The page
(\`bench/browser/page.js\`) counts them in \`onStreamToken\` (reading \`data.token\`, as a UI
would) through chatwire's \`ChatWebSocketManager\` and, in the same page, through
\`bench/browser/seed-manager.js\` (the seed's \`JSON.parse\` + \`switch\`); timed from the first to
the last token. ${d.runs} runs each, alternating which goes first, a forced GC before each run.
${d.overSocket ? `Over a real WebSocket to a local server (median of ${d.overSocket.runs}): chatwire ${int(d.overSocket.chatwire)}, seed ${int(d.overSocket.seed)}, bare ${int(d.overSocket.bare)} frames/s: the socket's ceiling, the same for all.` : ""}

| run | ${d.chatwireFps.map((_, i) => i + 1).join(" | ")} | median |
| --- | ${d.chatwireFps.map(() => "---:").join(" | ")} | ---: |
| chatwire frames/s | ${d.chatwireFps.map(int).join(" | ")} | **${int(d.chatwireMedianFps)}** |
| seed JS frames/s | ${d.seedFps.map(int).join(" | ")} | **${int(d.seedMedianFps)}** |
| bare WebSocket frames/s | ${d.bareFps.map(int).join(" | ")} | ${int(d.bareMedianFps)} |

Ratio chatwire / seed: **${d.ratio.toFixed(2)}** (median of the per-pair ratios ${d.medianPairRatio.toFixed(2)}; runs
ranged ${int(Math.min(...d.chatwireFps))}–${int(Math.max(...d.chatwireFps))} frames/s for chatwire and ${int(Math.min(...d.seedFps))}–${int(Math.max(...d.seedFps))} for the seed, so a ratio within a few per cent of 1.0 can fall either side from run to run).
${dispatchOk ? "chatwire is at least as fast as the JavaScript it replaces." : `**Goal missed: chatwire is ${pct(d.ratio - 1)} against the seed** (ratio ${d.ratio.toFixed(2)} < 1.0). Per frame that is ${(1e6 / d.chatwireMedianFps).toFixed(1)} µs vs ${(1e6 / d.seedMedianFps).toFixed(1)} µs: ${((1e6 / d.chatwireMedianFps) - (1e6 / d.seedMedianFps)).toFixed(1)} µs more per frame.`}

The bare stand-in (\`onmessage\` that only tells frames apart by their first bytes, no
parsing) runs at ${int(d.bareMedianFps)} frames/s: the floor of the harness itself (event creation
and delivery). Chromium's counters give the main-thread time per frame during each run (CDP
\`Performance.getMetrics\`, thread ticks), medians:

| per frame | chatwire | seed JS | bare WebSocket |
| --- | ---: | ---: | ---: |
| script (µs) | ${sc.chatwire.toFixed(2)} | ${sc.seed.toFixed(2)} | ${sc.bare.toFixed(2)} |
| all main-thread tasks (µs) | ${d.medianTaskUs.chatwire.toFixed(2)} | ${d.medianTaskUs.seed.toFixed(2)} | ${d.medianTaskUs.bare.toFixed(2)} |
| script above the bare socket (µs) | ${(sc.chatwire - sc.bare).toFixed(2)} | ${(sc.seed - sc.bare).toFixed(2)} | — |

${scriptOk ? `On main-thread script time chatwire is also at least as cheap as the seed (ratio ${scriptRatio.toFixed(2)}).` : `**On main-thread script time chatwire is slower than the seed: ${sc.chatwire.toFixed(2)} vs ${sc.seed.toFixed(2)} µs per frame (ratio ${scriptRatio.toFixed(2)}); above the bare socket it spends ${((sc.chatwire - sc.bare) / (sc.seed - sc.bare)).toFixed(1)} × the seed's time.** A page that renders while tokens stream pays that on its main thread even though frames/s is the same.`}

The browser is driven over the DevTools protocol by \`bench/browser/cdp.mjs\`, not
Playwright: Playwright enables CDP's Network domain, which makes Chromium report every
WebSocket frame to the driver; while this benchmark was being built, a bare \`new WebSocket\`
that only counts frames ran at about 17,500 frames/s under Playwright and 55,000 without it
on this machine, which would hide the very costs being compared.

## 3. Client memory in Chromium

JS heap: \`Runtime.getHeapUsage\` after \`HeapProfiler.collectGarbage\` (twice, 50 ms apart).
wasm: \`memory.buffer.byteLength\` of the module's exports (what \`init()\` resolves to); linear
memory never shrinks, so it shows the high-water mark. Cycles: \`new\` → \`connect()\` →
\`disconnect()\` → \`free()\` against a silent endpoint. Frames: ${int(memC.frames[1].frames)} \`stream_token\`
frames as ${int(memC.frames[1].frames / memC.perMessage)} messages of ${int(memC.perMessage)} tokens, each ended by
\`stream_complete\`, done twice (a new socket per round); the second round tells a one-off
high-water mark from growth. The page's JS heap is shared, so the seed rows are the baseline.
Before the measured cycles each manager runs ${int(browser.memoryWarmupCycles ?? 0)} unmeasured cycles, so neither pays the
page's one-off WebSocket and JIT costs for the other.

| manager | connect/close cycles | JS heap (bytes) | heap growth per cycle since the previous row (bytes) | wasm memory (bytes) |
| --- | ---: | ---: | ---: | ---: |
${memRows("chatwire", memC, "cycles")}
${memRows("seed JS", memS, "cycles")}

| manager | frames received | JS heap (bytes) | heap growth per frame since the previous row (bytes) | wasm memory (bytes) |
| --- | ---: | ---: | ---: | ---: |
${memRows("chatwire", memC, "frames")}
${memRows("seed JS", memS, "frames")}

${memCyclesFlat && memFramesFlat ? "Flat: no growth beyond noise (" + kb(HEAP_NOISE) + " of JS heap) in either test." : `Not flat everywhere: cycles ${kb(growth(memC.cycles, "jsHeapUsed"))} JS heap / ${kb(growth(memC.cycles, "wasmMemory"))} wasm; frames ${kb(growth(memC.frames, "jsHeapUsed"))} JS heap / ${kb(growth(memC.frames, "wasmMemory"))} wasm, of which the second round alone ${kb(secondRound(memC, "jsHeapUsed"))} JS heap / ${kb(secondRound(memC, "wasmMemory"))} wasm (noise threshold ${kb(HEAP_NOISE)} of JS heap; wasm must not grow at all).`}

## 4. Relay

\`bench/relay-load\` (Rust) starts \`target/server/chatwire-relay\` (built with \`--profile server\`;
defaults, dev mode, \`RELAY_MAX_UPSTREAM=100000\`) against its own fake OpenAI-compatible
upstream: plain tokio HTTP/1.1, chunked, TCP_NODELAY, **one SSE event per write** (no batching
upstream: the relay gets one small read per token, as from a model server). Every stream is
its own WebSocket with a new conversation (tokio-tungstenite). Each figure is measured twice
with the same streams: **read directly from the upstream** (reqwest, the relay's own HTTP
client) and **through the relay**, so what the relay adds is told apart from what the harness
costs; relay, upstream and load generator share the ${machine.cores} cores. Paced streams get
${relayOpts.paced_tokens ?? "?"} tokens, one every ${relayOpts.period_ms ?? "?"} ms, starting spread over one period; the upstream
writes its clock reading into each token and the reader subtracts it on arrival. CPU time is
utime + stime of the relay process (\`/proc/PID/stat\`) over the phase.

Relay figures from one run of \`relay-load ${(relayRun.args ?? []).join(" ")}\`, finished ${relayDate},
load average ${relayRun.loadavg_start ?? "?"} at its start and ${relayRun.loadavg_end ?? "?"} at its end; each figure is the median of the
run's ${reps.length} repetitions, with their range in brackets.

| figure | direct from the upstream | through the relay | added by the relay | relay CPU-s per million tokens | goal | |
| --- | ---: | ---: | ---: | ---: | --- | --- |
| 100 streams × 100 tok/s: p99 per token | ${fig(p100, (r) => r.direct.latency.p99_us, us)} | ${fig(p100, (r) => r.relayed.latency.p99_us, us)} | ${fig(p100, (r) => r.added_p99_us, us)} | ${fig(p100, (r) => r.relayed.relay_cpu_s_per_mtok, cpuMtok)} | added < 0.5 ms | ${met(latOk)} |
| 100 streams × 100 tok/s: p50 per token | ${fig(p100, (r) => r.direct.latency.p50_us, us)} | ${fig(p100, (r) => r.relayed.latency.p50_us, us)} | ${fig(p100, (r) => r.added_p50_us, us)} | | | |
| 1,000 streams × 100 tok/s: p50 per token | ${fig(p1000, (r) => r.direct.latency.p50_us, us)} | ${fig(p1000, (r) => r.relayed.latency.p50_us, us)} | ${fig(p1000, (r) => r.added_p50_us, us)} | | | |
| 1,000 streams × 100 tok/s: p99 per token | ${fig(p1000, (r) => r.direct.latency.p99_us, us)} | ${fig(p1000, (r) => r.relayed.latency.p99_us, us)} | ${fig(p1000, (r) => r.added_p99_us, us)} | ${fig(p1000, (r) => r.relayed.relay_cpu_s_per_mtok, cpuMtok)} | added < 5 ms | ${met(lat1000Ok)} |
| 1,000 streams × 100 tok/s: tokens/s delivered (${int(p1000[0]?.offered_tokens_per_s ?? 0)} offered) | ${fig(p1000, (r) => r.direct.window_tokens_per_s, int)} | ${fig(p1000, (r) => r.relayed.window_tokens_per_s, int)} | | | | |
| ${int(tputs[0]?.streams ?? 0)} unpaced streams × ${int(tputs[0]?.tokens_per_stream ?? 0)} tokens: tokens/s | ${fig(tputs, (t) => t.direct.tokens_per_s, int)} (${sum(tputs, (t) => t.direct.errors)} errors) | **${fig(tputs, (t) => t.relayed.tokens_per_s, int)}** (${tputErrors} errors) | | ${fig(tputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} | ≥ 200,000, 0 errors | ${met(tputOk)} |
| same: load generator + fake upstream CPU-s per million tokens | ${fig(tputs, (t) => t.direct.harness_cpu_s_per_mtok, cpuMtok)} | ${fig(tputs, (t) => t.relayed.harness_cpu_s_per_mtok, cpuMtok)} | | | | |
| RSS per idle WebSocket, ${int(idle.connections)} open | — | **${int(idle.per_connection_bytes)} B** | | | ≤ 6 KiB (6,144 B) | ${met(idleOk)} |

Tokens/s of the unpaced streams is all tokens over the wall time from the moment every socket
is open to the last \`stream_complete\`; delivered tokens/s of the paced streams is counted from
the first to the last token. Idle memory: a fresh relay; ${int(idle.connections)} sockets opened (64 at a time), each
exchanging one \`ping\`/\`pong\`, then held idle (the relay's \`/healthz\` reported ${idle.relay_reported_open ?? "?"} open,
${idle.relay_open_fds ?? "?"} descriptors); RSS from \`/proc/PID/status\`: ${mib(idle.rss_before_bytes)} → ${mib(idle.rss_after_bytes)}.

Each repetition (the machine is shared; load average at the start of its 1,000-stream phase):

| repetition | load average | added p99, 100 × 100 tok/s | relay p99, 1,000 × 100 tok/s | relay tokens/s, unpaced | direct tokens/s, unpaced | relay CPU-s per million tokens, unpaced |
| ---: | --- | ---: | ---: | ---: | ---: | ---: |
${repRows}

HARNESS_PLACEHOLDER

### The machine's floor: a minimal forwarder in the relay's place

${floorReps.length ? `\`relay-floor\` (\`bench/relay-load/src/bin/relay-floor.rs\`) does per token only what no relay can
leave out: one read of the upstream socket and one WebSocket write to the client of every
token that read brought, both in one task, so no wakeup passes between tasks or threads. It has no history, resume, auth or limits,
cuts the token out of the SSE event by position, and keeps its upstream connections alive as
the relay's HTTP client does. It ran in the relay's place in the same run, its repetitions
interleaved with the relay's. What it adds over the direct reading is what two more loopback
hops cost on this machine (wakeups, system calls, the kernel's TCP); what the relay adds over
it is the relay's own work.

| figure | added by the floor | added by the relay | floor CPU-s per million tokens | relay CPU-s per million tokens | goal (added) |
| --- | ---: | ---: | ---: | ---: | --- |
${[100, 1000]
  .map((n) => {
    const f = floorPaced(n);
    const m = paced(n);
    return `| ${int(n)} streams × 100 tok/s: p99 per token | ${fig(f, (x) => x.added_p99_us, us)} | ${fig(m, (x) => x.added_p99_us, us)} | ${fig(f, (x) => x.relayed.relay_cpu_s_per_mtok, cpuMtok)} | ${fig(m, (x) => x.relayed.relay_cpu_s_per_mtok, cpuMtok)} | < ${us(ADDED_P99_GOAL_US[n])} |
| ${int(n)} streams × 100 tok/s: p50 per token | ${fig(f, (x) => x.added_p50_us, us)} | ${fig(m, (x) => x.added_p50_us, us)} | | | |`;
  })
  .join("\n")}
| ${int(tputs[0]?.streams ?? 0)} unpaced streams: tokens/s (not added: through each) | ${fig(floorTputs, (t) => t.relayed.tokens_per_s, int)} (${sum(floorTputs, (t) => t.relayed.errors)} errors) | ${fig(tputs, (t) => t.relayed.tokens_per_s, int)} (${tputErrors} errors) | ${fig(floorTputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} | ${fig(tputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} | |

${floorVerdicts.join("\n")}` : "Not measured in this run (`relay-load` without `--floor`)."}

### An https:// upstream: the path a DeepSeek reply takes

${tlsReps.length ? `A second run of \`relay-load ${(tlsRun.args ?? []).join(" ")}\`, after the first (finished ${new Date(tlsRun.finished * 1000).toISOString().replace(/\.\d+Z$/, "Z")}, load average ${tlsRun.loadavg_start ?? "?"} at its start):
the fake upstream serves HTTPS (rustls, HTTP/1.1, the relay's test certificate), which the relay
(\`DEEPSEEK_CA_FILE\`) and the direct reader trust through the test CA. The relay reads an
\`https://\` upstream in the generation's own task as it reads \`http://\` (\`relay/src/provider/http1_pool.rs\`);
the direct column pays the same TLS. Not interleaved with the plain-HTTP figures: compare them
with the machine's load in mind.

| figure | plain http:// (above) | https:// | relay CPU-s per million tokens, http:// | relay CPU-s per million tokens, https:// |
| --- | ---: | ---: | ---: | ---: |
${[100, 1000]
  .map((n) => {
    const m = paced(n);
    const t = tlsPaced(n);
    return `| ${int(n)} streams × 100 tok/s: added p99 per token | ${fig(m, (x) => x.added_p99_us, us)} | ${fig(t, (x) => x.added_p99_us, us)} | ${fig(m, (x) => x.relayed.relay_cpu_s_per_mtok, cpuMtok)} | ${fig(t, (x) => x.relayed.relay_cpu_s_per_mtok, cpuMtok)} |`;
  })
  .join("\n")}
| ${int(tputs[0]?.streams ?? 0)} unpaced streams: tokens/s through the relay | ${fig(tputs, (t) => t.relayed.tokens_per_s, int)} (${tputErrors} errors) | ${fig(tlsTputs, (t) => t.relayed.tokens_per_s, int)} (${sum(tlsTputs, (t) => t.relayed.errors)} errors) | ${fig(tputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} | ${fig(tlsTputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} |

DeepSeek itself would offer HTTP/2; the relay asks for HTTP/1.1 (ALPN), one connection per
concurrent reply, kept for the next.` : "Not measured in this run (no `bench/results/relay-tls.json`)."}

### State in Redis beside state in memory

${redisReps.length ? `The same phases, in the same run, through a second relay started with \`RELAY_REDIS_URL\` pointing
at a throwaway \`redis-server\` (Debian's, on a free port, persistence off, on the same cores):
history, conversation leases, accepted client ids and every generation's frames mirrored into a
Redis stream in batches (relay/README.md has the key layout). The repetitions alternate between
the two relays. Redis commands per token: Redis's \`total_commands_processed\` over the phase
(every command the relay sent: leases and their renewals, history, ids, \`XADD\` batches,
\`EXPIRE\`s) divided by the tokens delivered. Relay warnings: lines the relay logged at WARN or
ERROR during the phase (a Redis command that timed out, a mirror batch dropped, a lease lost).

| figure | state in memory | state in Redis | Redis commands per token | relay warnings (Redis, all repetitions together) |
| --- | ---: | ---: | ---: | ---: |
${[100, 1000]
  .map((n) => {
    const m = paced(n);
    const r = redisPaced(n);
    return `| ${int(n)} streams × 100 tok/s: added p99 per token | ${fig(m, (x) => x.added_p99_us, us)} | ${fig(r, (x) => x.added_p99_us, us)} | ${fig(r, (x) => x.relayed.redis_commands_per_token, (v) => v.toFixed(3))} | ${sum(r, (x) => x.relayed.relay_warnings ?? 0)} |
| ${int(n)} streams × 100 tok/s: tokens/s delivered | ${fig(m, (x) => x.relayed.window_tokens_per_s, int)} (${sum(m, (x) => x.relayed.errors)} errors) | ${fig(r, (x) => x.relayed.window_tokens_per_s, int)} (${sum(r, (x) => x.relayed.errors)} errors) | | |`;
  })
  .join("\n")}
| ${int(tputs[0]?.streams ?? 0)} unpaced streams: tokens/s | ${fig(tputs, (t) => t.relayed.tokens_per_s, int)} (${tputErrors} errors) | ${fig(redisTputs, (t) => t.relayed.tokens_per_s, int)} (${sum(redisTputs, (t) => t.relayed.errors)} errors) | ${fig(redisTputs, (t) => t.relayed.redis_commands_per_token, (v) => v.toFixed(3))} | ${sum(redisTputs, (t) => t.relayed.relay_warnings ?? 0)} |
| same: relay CPU-s per million tokens | ${fig(tputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} | ${fig(redisTputs, (t) => t.relayed.relay_cpu_s_per_mtok, cpuMtok)} | | |
${redisReps.some((r) => (r.throughput?.relayed.errors ?? 0) > 0) ? `\nErrors through the Redis-backed relay, first quoted: ${redisTputs.flatMap((t) => t.relayed.first_errors).slice(0, 1).map((e) => `\`${e}\``).join("") || "none quoted"}.` : ""}` : `Not measured in this run: ${relay.redis?.skipped ?? "the results predate the Redis rows"}.`}

## Notes on missed goals

NOTES_PLACEHOLDER
`;

let notes = [];
try {
  notes = JSON.parse(readFileSync(new URL("bench/notes.json", root), "utf8"));
} catch {
  notes = [];
}
// Notes are kept in bench/notes.json as { when, text } with `when` naming a goal; only the
// notes of goals missed in this run are printed, with the run's figures substituted. Notes
// whose `when` is "relay" are always printed, in §4.
const missed = { size: !sizeOk, dispatch: !dispatchOk || !scriptOk, memory: !(memCyclesFlat && memFramesFlat), latency: !latOk, latency1000: !lat1000Ok, throughput: !tputOk, idle: !idleOk };
const relayBudget = (machine.cores * 1e6) / GOAL_TPUT - med(tputs, (t) => t.relayed.harness_cpu_s_per_mtok);
const vars = {
  added_p99_100: us(added100),
  relay_cpu_100: cpuMtok(med(p100, (r) => r.relayed.relay_cpu_s_per_mtok)),
  relay_cpu_1000: cpuMtok(med(p1000, (r) => r.relayed.relay_cpu_s_per_mtok)),
  added_p99_1000: us(added1000),
  // A run without --floor leaves these out of the notes' sentences rather than print NaN.
  floor_added_p99_100: Number.isFinite(floorAdded[100]) ? us(floorAdded[100]) : "(not measured)",
  floor_added_p99_1000: Number.isFinite(floorAdded[1000]) ? us(floorAdded[1000]) : "(not measured)",
  floor_reach_100: floorReach(100),
  floor_reach_1000: floorReach(1000),
  relay_vs_floor_100: relayVsFloor(100),
  relay_vs_floor_1000: relayVsFloor(1000),
  floor_cpu_100: cpuMtok(med(floorPaced(100), (r) => r.relayed.relay_cpu_s_per_mtok)),
  floor_cpu_1000: cpuMtok(med(floorPaced(1000), (r) => r.relayed.relay_cpu_s_per_mtok)),
  relayed_p99_1000: us(med(p1000, (r) => r.relayed.latency.p99_us)),
  direct_p99_1000: us(med(p1000, (r) => r.direct.latency.p99_us)),
  delivered_1000: int(med(p1000, (r) => r.relayed.window_tokens_per_s)),
  tput: int(tputRelay),
  tput_errors: String(tputErrors),
  tput_direct: int(med(tputs, (t) => t.direct.tokens_per_s)),
  tput_short: int(GOAL_TPUT - tputRelay),
  relay_cpu_per_mtok: cpuMtok(med(tputs, (t) => t.relayed.relay_cpu_s_per_mtok)),
  harness_cpu_per_mtok: cpuMtok(med(tputs, (t) => t.relayed.harness_cpu_s_per_mtok)),
  // At the goal's rate the cores give 1e6 / rate CPU-s per token each; the harness takes its share.
  relay_budget_per_mtok: cpuMtok(relayBudget),
  relay_cut: (med(tputs, (t) => t.relayed.relay_cpu_s_per_mtok) / relayBudget).toFixed(1),
  idle_per_socket: int(idle.per_connection_bytes),
  ratio: d.ratio.toFixed(2),
  cyc_growth: kb(growth(memC.cycles, "jsHeapUsed")),
  seed_cyc_growth: kb(growth(memS.cycles, "jsHeapUsed")),
  cyc_first_rate: ((memC.cycles[1].jsHeapUsed - memC.cycles[0].jsHeapUsed) / memC.cycles[1].cycles).toFixed(0),
  cyc_first_n: int(memC.cycles[1].cycles),
  cyc_last_rate: ((memC.cycles.at(-1).jsHeapUsed - memC.cycles.at(-2).jsHeapUsed) / (memC.cycles.at(-1).cycles - memC.cycles.at(-2).cycles)).toFixed(0),
  cyc_last_n: int(memC.cycles.at(-1).cycles - memC.cycles.at(-2).cycles),
  script_ratio: scriptRatio.toFixed(2),
  script_cw: sc.chatwire.toFixed(2),
  script_seed: sc.seed.toFixed(2),
};
const fill = (text) => text.replace(/\{(\w+)\}/g, (m, k) => vars[k] ?? m);
const printed = notes.filter((n) => missed[n.when]).map((n) => `- **${n.when}**: ${fill(n.text)}`);
const relayNotes = notes.filter((n) => n.when === "relay").map((n) => fill(n.text));
const out = md
  .replace("HARNESS_PLACEHOLDER", relayNotes.join("\n\n"))
  .replace("NOTES_PLACEHOLDER", printed.length ? printed.join("\n") : "Every goal was met in this run.");
writeFileSync(new URL("BENCHMARKS.md", root), out);
writeFileSync(new URL("bench/results/latest.json", root), JSON.stringify({ machine, size, browser, relay, relayTls }, null, 2) + "\n");
console.error("bench: wrote BENCHMARKS.md and bench/results/latest.json");

// Dispatch throughput in the benchmark page: `stream_token` floods through the in-page fake
// socket for chatwire, the seed-style manager and a bare socket, in alternating order, with
// Chromium's own main-thread counters. Used by ./run.mjs (`npm run bench`) and ./frames-ab.mjs.
import { collectGarbage } from "./cdp.mjs";

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The page's `window.bench.flood`, resolving to { frames, ms, fps, chars }. */
export const flood = (browser, kind, total, per, transport = "fake") =>
  browser.evaluate(`window.bench.flood(${JSON.stringify(kind)}, ${total}, ${per}, ${JSON.stringify(transport)})`);

/**
 * `runs` rounds of one `frames`-frame flood per manager, after a warm-up of every path;
 * each round alternates which goes first. `log` gets one line per flood.
 */
export async function measureDispatch(browser, { frames, runs, log = () => {} }) {
  // Main-thread time, from Chromium's own counters: frames/s is bounded by the browser's
  // WebSocket pipeline, so the per-frame script time is what shows a manager's cost.
  await browser.send("Performance.enable", { timeDomain: "threadTicks" });
  const mainThread = async () => {
    const { metrics } = await browser.send("Performance.getMetrics");
    const get = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
    return { script: get("ScriptDuration"), task: get("TaskDuration") };
  };
  // "bare" (a WebSocket that only counts) is the floor Chromium itself sets.
  for (const kind of ["chatwire", "seed", "bare"]) await flood(browser, kind, 20_000, 0);
  const fps = { chatwire: [], seed: [], bare: [] };
  const scriptPerFrame = { chatwire: [], seed: [], bare: [] };
  const taskPerFrame = { chatwire: [], seed: [], bare: [] };
  const orders = [
    ["chatwire", "seed", "bare"],
    ["seed", "chatwire", "bare"],
  ];
  for (let i = 0; i < runs; i++) {
    for (const kind of orders[i % 2]) {
      await collectGarbage(browser);
      const before = await mainThread();
      const r = await flood(browser, kind, frames, 0);
      const after = await mainThread();
      if (r.frames !== frames) throw new Error(`${kind}: counted ${r.frames} of ${frames}`);
      fps[kind].push(r.fps);
      const scriptUs = ((after.script - before.script) * 1e6) / frames;
      const taskUs = ((after.task - before.task) * 1e6) / frames;
      scriptPerFrame[kind].push(scriptUs);
      taskPerFrame[kind].push(taskUs);
      log(`  ${kind.padEnd(8)} ${Math.round(r.fps).toLocaleString("en")} frames/s (${r.ms.toFixed(0)} ms), main thread per frame: script ${scriptUs.toFixed(2)} µs, tasks ${taskUs.toFixed(2)} µs`);
    }
  }
  const pairRatios = fps.chatwire.map((c, i) => c / fps.seed[i]);
  return {
    frames,
    runs,
    chatwireFps: fps.chatwire,
    seedFps: fps.seed,
    bareFps: fps.bare,
    bareMedianFps: median(fps.bare),
    chatwireMedianFps: median(fps.chatwire),
    seedMedianFps: median(fps.seed),
    ratio: median(fps.chatwire) / median(fps.seed),
    scriptUsPerFrame: scriptPerFrame,
    taskUsPerFrame: taskPerFrame,
    medianScriptUs: Object.fromEntries(Object.entries(scriptPerFrame).map(([k, v]) => [k, median(v)])),
    medianTaskUs: Object.fromEntries(Object.entries(taskPerFrame).map(([k, v]) => [k, median(v)])),
    medianPairRatio: median(pairRatios),
  };
}

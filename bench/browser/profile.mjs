// Where a manager's per-frame time goes: a CPU profile (CDP Profiler) of one in-page flood,
// summed by function (self time), top entries printed. Not part of `npm run bench`.
//   node bench/browser/profile.mjs [chatwire|seed] [frames]
import { launch, waitFor } from "./cdp.mjs";
import { startServer } from "./server.mjs";

const kind = process.argv[2] ?? "chatwire";
const frames = Number(process.argv[3] ?? 200_000);
const server = await startServer();
const browser = await launch(`${server.url}/bench/browser/index.html`);
try {
  await waitFor(browser, "window.benchReady === true", "the benchmark page did not load");
  await browser.evaluate(`window.bench.flood(${JSON.stringify(kind)}, 20000, 0)`); // warm up
  await browser.send("Profiler.enable");
  await browser.send("Profiler.setSamplingInterval", { interval: 50 });
  await browser.send("Profiler.start");
  const result = await browser.evaluate(`window.bench.flood(${JSON.stringify(kind)}, ${frames}, 0)`);
  const { profile } = await browser.send("Profiler.stop");
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let total = 0;
  for (const [id, n] of counts) {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}`;
    self.set(name, (self.get(name) ?? 0) + n);
    total += n;
  }
  console.log(`${kind}: ${Math.round(result.fps).toLocaleString("en")} frames/s; self time by function (${total} samples):`);
  for (const [name, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${((100 * n) / total).toFixed(1).padStart(5)} %  ${name}`);
  }
} finally {
  await browser.close();
  await server.close?.();
}

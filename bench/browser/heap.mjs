// What the JS heap keeps after connect/close cycles: heap snapshots (CDP HeapProfiler) of the
// benchmark page before and after each of two rounds of `BENCH_CYCLES` cycles of one manager,
// each after a forced GC, compared by object kind. A leak grows in both rounds; compiled code
// and the engine's caches grow in the first. Prints the kinds whose count or size grew in
// each round; nothing is written.
//   node bench/browser/heap.mjs [chatwire|seed|chatwire-async-token]
import { collectGarbage, launch, waitFor } from "./cdp.mjs";
import { startServer } from "./server.mjs";

const kind = process.argv[2] ?? "chatwire";
const CYCLES = Number(process.env.BENCH_CYCLES ?? 1_000);
const WARMUP = 100;
const SHOWN = 25;

/** Count and self size per "type:name" of a V8 heap snapshot. */
function summarise(snapshot) {
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
  const byKind = new Map();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = snapshot.strings[nodes[i + nameAt]];
    // Strings and numbers are named by their value: group them by type only.
    const key = ["string", "concatenated string", "sliced string", "number", "code", "hidden"].includes(type)
      ? type
      : `${type}:${name.slice(0, 80)}`;
    const entry = byKind.get(key) ?? { count: 0, size: 0 };
    entry.count += 1;
    entry.size += nodes[i + sizeAt];
    byKind.set(key, entry);
  }
  return byKind;
}

const server = await startServer();
let browser;
try {
  browser = await launch(`${server.url}/bench/browser/index.html`);
  await waitFor(browser, "window.benchReady === true", "the benchmark page did not load");
  const gc = () => collectGarbage(browser);
  let chunks = [];
  browser.onEvent("HeapProfiler.addHeapSnapshotChunk", ({ chunk }) => chunks.push(chunk));
  const snapshot = async () => {
    await gc();
    chunks = [];
    await browser.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const used = (await browser.send("Runtime.getHeapUsage")).usedSize;
    return { used, kinds: summarise(JSON.parse(chunks.join(""))) };
  };
  await browser.evaluate(`window.bench.cycles(${JSON.stringify(kind)}, ${WARMUP})`);
  let before = await snapshot();
  for (const round of [1, 2]) {
    await browser.evaluate(`window.bench.cycles(${JSON.stringify(kind)}, ${CYCLES})`);
    const after = await snapshot();
    const delta = after.used - before.used;
    console.log(`${kind}, round ${round}: ${CYCLES} connect/close cycles: JS heap used ${before.used} -> ${after.used} (${delta >= 0 ? "+" : ""}${delta} B)`);
    const grown = [...after.kinds]
      .map(([key, a]) => {
        const b = before.kinds.get(key) ?? { count: 0, size: 0 };
        return { key, count: a.count - b.count, size: a.size - b.size };
      })
      .filter((d) => d.count > 0 || d.size > 0)
      .sort((x, y) => y.size - x.size)
      .slice(0, SHOWN);
    for (const d of grown) console.log(`  +${String(d.size).padStart(7)} B  +${String(d.count).padStart(5)}  ${d.key}`);
    before = after;
  }
} finally {
  await browser?.close();
  await server.close();
}

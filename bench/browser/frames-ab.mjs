// The per-frame cost of two or more builds of the package, A/B: each round launches a fresh
// Chromium per build (in alternating order) and runs the dispatch floods of ./dispatch.mjs
// against the seed-style manager in the same page. Prints each run's figures and, per build,
// the range and median of chatwire frames/s, of its ratio to the seed and of its main-thread
// script µs per frame. Not part of `npm run bench`.
//   node bench/browser/frames-ab.mjs [--rounds N] [--runs N] [--frames N] pkgDirA pkgDirB …
// (a pkgDir is a copy of pkg/ as scripts/build-pkg.sh leaves it, e.g. cp -r pkg /tmp/pkg-a;
// none: pkg/ itself).
import { abArgs } from "./ab-args.mjs";
import { launch, waitFor } from "./cdp.mjs";
import { measureDispatch, median } from "./dispatch.mjs";
import { startServer } from "./server.mjs";

const { values, builds } = abArgs({ "--rounds": 3, "--runs": 3, "--frames": 200_000 });
const ROUNDS = values["--rounds"];
const RUNS = values["--runs"];
const FRAMES = values["--frames"];

const results = new Map(builds.map((b) => [b, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...builds].reverse() : builds;
  for (const pkgDir of order) {
    const server = await startServer({ pkgDir });
    const browser = await launch(`${server.url}/bench/browser/index.html`);
    try {
      browser.onConsole((type, text) => {
        if (type === "error" || type === "warning" || type === "exception") console.error(`[page ${type}] ${text}`);
      });
      await waitFor(browser, "window.benchReady === true", "the benchmark page did not load");
      const d = await measureDispatch(browser, { frames: FRAMES, runs: RUNS });
      const run = {
        fps: d.chatwireMedianFps,
        seedFps: d.seedMedianFps,
        ratio: d.ratio,
        scriptUs: d.medianScriptUs.chatwire,
        seedScriptUs: d.medianScriptUs.seed,
      };
      results.get(pkgDir).push(run);
      console.log(
        `round ${round + 1} ${pkgDir ?? "pkg/"}: chatwire ${Math.round(run.fps).toLocaleString("en")} frames/s, seed ${Math.round(run.seedFps).toLocaleString("en")}, ratio ${run.ratio.toFixed(3)}; script µs/frame ${run.scriptUs.toFixed(2)} vs ${run.seedScriptUs.toFixed(2)}`,
      );
    } finally {
      await browser.close();
      await server.close();
    }
  }
}

const range = (xs, digits) => {
  const f = (x) => x.toFixed(digits);
  return `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
};
console.log(`\nmedian (range) over ${ROUNDS} rounds of ${RUNS} runs of ${FRAMES} frames:`);
for (const [pkgDir, runs] of results) {
  const pick = (key) => runs.map((r) => r[key]);
  console.log(pkgDir ?? "pkg/");
  console.log(`  chatwire frames/s ${range(pick("fps"), 0)}, seed ${range(pick("seedFps"), 0)}`);
  console.log(`  ratio ${range(pick("ratio"), 3)}`);
  console.log(`  script µs/frame ${range(pick("scriptUs"), 2)}, seed ${range(pick("seedScriptUs"), 2)}`);
}

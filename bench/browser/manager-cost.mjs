// A manager's own main-thread cost per stream_token frame, chatwire against the seed-style
// manager, for one or more builds of the package (see ./manager-cost.js): each build gets a
// fresh Chromium per round (alternating order), and in it `--reps` alternating timings of
// each manager. Prints per build the minimum, 25th percentile and median µs per frame of
// each, and chatwire's excess over the seed. Not part of `npm run bench`.
//   node bench/browser/manager-cost.mjs [--rounds N] [--reps N] [--frames N] pkgDirA pkgDirB …
// (a pkgDir is a copy of pkg/ as scripts/build-pkg.sh leaves it; none: pkg/ itself).
// On a shared machine the minimum is the steadiest figure: interference only adds time.
import { abArgs } from "./ab-args.mjs";
import { launch, waitFor } from "./cdp.mjs";
import { startServer } from "./server.mjs";

const { values, builds } = abArgs({ "--rounds": 2, "--reps": 12, "--frames": 100_000 });
const ROUNDS = values["--rounds"];
const REPS = values["--reps"];
const FRAMES = values["--frames"];

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];
const timings = new Map(builds.map((b) => [b, { chatwire: [], seed: [] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const pkgDir of round % 2 ? [...builds].reverse() : builds) {
    const server = await startServer({ pkgDir });
    const browser = await launch(`${server.url}/bench/browser/manager-cost.html`);
    try {
      browser.onConsole((type, text) => {
        if (type === "error" || type === "warning" || type === "exception") console.error(`[page ${type}] ${text}`);
      });
      await waitFor(browser, "window.managerCostReady === true", "the page did not load");
      const cost = (kind, frames) => browser.evaluate(`window.managerCost.cost(${JSON.stringify(kind)}, ${frames})`);
      await cost("chatwire", 20_000); // warm up
      await cost("seed", 20_000);
      const t = timings.get(pkgDir);
      for (let i = 0; i < REPS; i++) {
        for (const kind of i % 2 ? ["seed", "chatwire"] : ["chatwire", "seed"]) t[kind].push(await cost(kind, FRAMES));
      }
    } finally {
      await browser.close();
      await server.close();
    }
  }
}

console.log(`µs per frame over ${ROUNDS} rounds of ${REPS} timings of ${FRAMES} frames (min / p25 / median):`);
for (const [pkgDir, t] of timings) {
  const line = (xs) => [0, 0.25, 0.5].map((q) => quantile(xs, q).toFixed(3)).join(" / ");
  const excess = [0, 0.25, 0.5].map((q) => (quantile(t.chatwire, q) - quantile(t.seed, q)).toFixed(3)).join(" / ");
  console.log(`${pkgDir ?? "pkg/"}\n  chatwire ${line(t.chatwire)}\n  seed     ${line(t.seed)}\n  chatwire - seed ${excess}`);
}

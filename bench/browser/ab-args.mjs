// Command-line arguments of the A/B tools (frames-ab.mjs, manager-cost.mjs):
// `[--name N]…` numeric options, then the pkg directories to compare (none: pkg/ itself).
import { resolve } from "node:path";

/** `defaults` maps each option (`--rounds`) to its default; returns the values and builds. */
export function abArgs(defaults) {
  const args = process.argv.slice(2);
  const values = {};
  for (const [name, fallback] of Object.entries(defaults)) {
    const at = args.indexOf(name);
    values[name] = at < 0 ? fallback : Number(args.splice(at, 2)[1]);
  }
  const builds = args.length > 0 ? args.map((dir) => resolve(dir) + "/") : [undefined];
  return { values, builds };
}

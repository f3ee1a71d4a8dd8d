#!/usr/bin/env bash
# Builds the npm package `chatwire` into pkg/: wasm-pack (release profile, tuned for size,
# wasm-opt from the `binaryen` devDependency), then the package metadata and the React hook.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name chatwire . -- --no-default-features >&2
node scripts/finish-pkg.mjs

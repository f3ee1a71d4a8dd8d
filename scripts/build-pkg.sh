#!/usr/bin/env bash
# Builds the npm package `chatwire` into pkg/: `wasm-pack build` with the release profile
# (tuned for size in Cargo.toml) and wasm-opt, whose flags are set in Cargo.toml's
# [package.metadata.wasm-pack.profile.release] (wasm-opt comes from the `binaryen`
# devDependency on PATH). Then the package metadata and the React hook (finish-pkg.mjs).
# Stable toolchain, no unstable flags; nothing rewrites wasm-bindgen's output.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
wasm-pack build --release --target web --out-dir pkg --out-name chatwire . -- --no-default-features >&2
node scripts/finish-pkg.mjs

#!/usr/bin/env bash
# Builds the npm package `chatwire` into pkg/: wasm-pack (release profile, tuned for size,
# wasm-opt from the `binaryen` devDependency), then the package metadata and the React hook.
#
# core and alloc are rebuilt from rust-src with `-C panic=immediate-abort` (build-std): the
# package already traps on panic (see src/lib.rs), and this also drops the panic messages,
# file paths and formatting code that the prebuilt core carries (~580 B gzip).
# `-Z cross-crate-inline-threshold=always` makes every function of every crate (core,
# alloc, wasm-bindgen, js-sys) available for inlining into ours, as `#[inline]` would: the
# optimiser then removes the generic glue it no longer needs (~1.9 KB gzip). Inlining
# changes no behaviour; the Node and end-to-end tests run this exact build.
# Those flags are unstable, so this one build sets RUSTC_BOOTSTRAP=1 on the stable
# toolchain; it uses its own target dir so the host and test builds keep their cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_DIR="$PWD/target/pkg" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zcross-crate-inline-threshold=always" \
  wasm-pack build --release --target web --out-dir pkg --out-name chatwire . -- \
  --no-default-features -Z build-std=core,alloc >&2
node scripts/finish-pkg.mjs

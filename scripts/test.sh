#!/usr/bin/env bash
# Every test chatwire has: lints, native unit and relay integration tests, the wasm package
# and its size, TypeScript types, browser tests in headless Chromium and Firefox, the
# demo's end-to-end tests, and the fuzz targets over their saved corpora. Installs what is
# missing first (scripts/setup.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=$root/target/test-logs
mkdir -p "$logs"
step() { printf '\n==> %s\n' "$*"; }
passed=0
failed=0
count() { # log file: add up "N passed; M failed" (cargo, wasm-bindgen-test) and "ℹ pass N" (node --test)
  local p f
  p=$(awk '/test result: (ok|FAILED)\./ {for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) s += $i}
           /^(#|ℹ) pass [0-9]+/ {s += $3} END {print s + 0}' "$1")
  f=$(awk '/test result: (ok|FAILED)\./ {for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) s += $i}
           /^(#|ℹ) fail [0-9]+/ {s += $3} END {print s + 0}' "$1")
  passed=$((passed + p))
  failed=$((failed + f))
}

step "setup"
bash scripts/setup.sh test
export PATH="$root/node_modules/.bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
export GECKODRIVER=${GECKODRIVER:-$(command -v geckodriver)}

step "rustfmt and clippy (host and wasm32)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p chatwire --all-targets --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p chatwire --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings

step "native tests (client core, relay)"
cargo test --workspace 2>&1 | tee "$logs/cargo.log"
count "$logs/cargo.log"

step "build pkg/ and check its size"
bash scripts/build-pkg.sh
node scripts/size.mjs --enforce | tee "$logs/size.log"

step "the shipped package (pkg/, exactly as published) in Node against the test server"
node --test tests/pkg/ 2>&1 | tee "$logs/pkg.log"
count "$logs/pkg.log"

step "TypeScript: pkg/chatwire.d.ts against tests/typescript/usage.ts"
tsc -p tests/typescript/tsconfig.json

step "browser tests (wasm-bindgen-test) against the scripted WebSocket server"
port=${CHATWIRE_TEST_PORT:-18765}
node tests/server/ws-server.mjs "$port" >"$logs/ws-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q listening "$logs/ws-server.log" && break; sleep 0.1; done
export CHATWIRE_TEST_WS="ws://127.0.0.1:$port"
export CHATWIRE_TEST_WS_REFUSING="ws://127.0.0.1:$((port + 1))"
# wasm-bindgen-test-runner picks the browser from whichever driver variable is set, so
# each run gets only its own (with both set, the Chromium run silently used Firefox).
env -u GECKODRIVER wasm-pack test --headless --chrome 2>&1 | tee "$logs/chrome.log"
grep -q "Running headless tests in Chrome" "$logs/chrome.log"
count "$logs/chrome.log"
env -u CHROMEDRIVER wasm-pack test --headless --firefox 2>&1 | tee "$logs/firefox.log"
grep -q "Running headless tests in Firefox" "$logs/firefox.log"
count "$logs/firefox.log"
# Once more in Chromium with the release profile the npm package is built with (opt-level
# z, LTO, panic=abort). Only the `std` feature differs: the test harness needs std.
env -u GECKODRIVER wasm-pack test --release --headless --chrome 2>&1 | tee "$logs/chrome-release.log"
grep -q "Running headless tests in Chrome" "$logs/chrome-release.log"
count "$logs/chrome-release.log"
kill $server 2>/dev/null || true

step "end-to-end: the demo in Chromium through the relay"
cargo build -p chatwire-relay
(cd www && npm run e2e) 2>&1 | tee "$logs/e2e.log"
count "$logs/e2e.log"

step "fuzz regression: each fuzz target over its saved corpus (nightly, in fuzz/ only)"
bash scripts/fuzz.sh regress 2>&1 | tee "$logs/fuzz.log"

printf '\nall suites: %s passed, %s failed\n' "$passed" "$failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

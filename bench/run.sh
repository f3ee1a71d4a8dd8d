#!/usr/bin/env bash
# `npm run bench`: runs every chatwire benchmark and writes BENCHMARKS.md from the results.
#   1. bundle size (bench/size.mjs)
#   2. dispatch throughput and client memory in headless Chromium (bench/browser/run.mjs)
#   3. relay latency, throughput and idle memory (bench/relay-load, a Rust load generator),
#      beside the same phases through relay-floor, a minimal forwarder: the machine's floor;
#      then latency and throughput again with the fake upstream serving HTTPS
# Everything runs on 127.0.0.1. Sizes can be lowered for a quick look, e.g.
#   BENCH_RUNS=3 BENCH_MEMORY_FRAMES=100000 RELAY_LOAD_ARGS="--idle 1000" npm run bench
# (BENCHMARKS.md then says which sizes were used).
set -euo pipefail
cd "$(dirname "$0")/.."

# 10,000 idle sockets need as many descriptors in the relay and in the load generator
# (which also holds the fake upstream's connections).
want=30000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want"

# pkg/ is rebuilt by scripts/build-pkg.sh; wait for it if a rebuild is in progress.
for _ in $(seq 60); do
  [ -f pkg/chatwire.js ] && [ -f pkg/chatwire_bg.wasm ] && break
  sleep 1
done
if [ ! -f pkg/chatwire.js ] || [ ! -f pkg/chatwire_bg.wasm ]; then
  echo "bench: pkg/ is missing; build it first with: npm run build:pkg" >&2
  exit 1
fi

mkdir -p bench/results
export BENCH_STARTED="$(date +%s)"
export BENCH_LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== building the relay and the load generator (cargo --profile server)" >&2
cargo build --quiet --profile server -p chatwire-relay -p relay-load
# Where cargo put them: CARGO_TARGET_DIR when it is set (a target dir shared by checkouts).
server="${CARGO_TARGET_DIR:-target}/server"

echo "== bundle size" >&2
node bench/size.mjs

echo "== browser: dispatch throughput and memory (headless Chromium)" >&2
node bench/browser/run.mjs

echo "== relay: latency, throughput, idle memory" >&2
# shellcheck disable=SC2086 # RELAY_LOAD_ARGS is a list of flags
"$server/relay-load" --relay "$server/chatwire-relay" --floor "$server/relay-floor" \
  --out bench/results/relay.json ${RELAY_LOAD_ARGS:-}

echo "== relay over an https:// upstream (the path a DeepSeek reply takes)" >&2
# A second run, after the first (relay-load refuses --floor with TLS: the floor reads plain
# HTTP only). Its later flags win, so RELAY_LOAD_ARGS can still lower the sizes.
# shellcheck disable=SC2086
"$server/relay-load" --relay "$server/chatwire-relay" --upstream-tls on --redis off \
  --phases latency,throughput --out bench/results/relay-tls.json ${RELAY_LOAD_ARGS:-}

printf '{"started": %s, "finished": %s, "loadavg": "%s"}\n' \
  "$BENCH_STARTED" "$(date +%s)" "$BENCH_LOADAVG" > bench/results/run.json
echo "== writing BENCHMARKS.md" >&2
node bench/report.mjs

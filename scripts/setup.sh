#!/usr/bin/env bash
# Installs what chatwire needs, idempotently: each step is skipped when already done.
#   scripts/setup.sh build   toolchain to build pkg/, www/ and the relay
#   scripts/setup.sh test    the above plus headless Chromium/Firefox and their drivers, and
#                            Debian's redis-server and haproxy for the shared-state tests
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"
step() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1; fi
}

# The wasm-bindgen CLI must be exactly the version the crate pins.
wasm_bindgen_version=$(grep -oP '^wasm-bindgen = .*"=\K[0-9.]+' Cargo.toml)

# rust-toolchain.toml pins the stable toolchain with the wasm32 target, clippy and rustfmt;
# rustup installs what is missing of it on first use.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qF " $wasm_bindgen_version"; then
  step "cargo install wasm-bindgen-cli $wasm_bindgen_version"
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi
if ! command -v wasm-pack >/dev/null; then
  step "cargo install wasm-pack"
  cargo install wasm-pack
fi

npm_install() { # dir: npm ci unless node_modules matches the lock file
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    step "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}
npm_install .
npm_install www

if [ "$mode" = test ]; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v firefox-esr >/dev/null || command -v firefox >/dev/null || missing+=(firefox-esr)
  # The relay's Redis tests start their own redis-server; haproxy balances two relays.
  command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! command -v geckodriver >/dev/null; then
    step "cargo install geckodriver"
    cargo install geckodriver
  fi
fi

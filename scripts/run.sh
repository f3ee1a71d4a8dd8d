#!/usr/bin/env bash
# The main job: install what is missing, build pkg/ and www/, then serve the demo chat with
# the relay on http://127.0.0.1:8000 (offline provider unless DEEPSEEK_API_KEY is set in the
# environment or .env).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh build
bash scripts/build-pkg.sh
(cd www && npm run build)
cargo build -p chatwire-relay --profile server
exec target/server/chatwire-relay "$@"

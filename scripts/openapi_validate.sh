#!/usr/bin/env bash
# Checks the served /api/openapi.json with an independent validator (openapi-spec-validator from
# PyPI, in a venv under target/): the document client generators are given must be valid
# OpenAPI 3.1, not only what utoipa produced.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${KAIROS_OPENAPI_VENV:-${CARGO_TARGET_DIR:-target}/openapi-venv}"
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "openapi-spec-validator>=0.7,<1"
fi
cargo build --quiet -p kairos
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
KAIROS_ADDR="127.0.0.1:$port" KAIROS_DATA_DIR="$data" RUST_LOG=warn \
    "${CARGO_TARGET_DIR:-target}/debug/kairos" >"$data/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/api/openapi.json" >"$data/openapi.json"
"$venv/bin/openapi-spec-validator" "$data/openapi.json"

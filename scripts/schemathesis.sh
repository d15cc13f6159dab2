#!/usr/bin/env bash
# Fuzzes the API from its own OpenAPI document with Schemathesis 4 (all phases, every check, a
# fixed seed) as a customer, a provider and an admin, against a fresh server on SQLite or on a
# PostgreSQL database made for the run (from $KAIROS_TEST_POSTGRES_URL, dropped after). The
# settings are in scripts/schemathesis.toml, the rules the schema cannot write in
# scripts/schemathesis_hooks.py.
# Usage: scripts/schemathesis.sh [max examples per operation, default 20] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-20}"
backend="${2:-sqlite}"
seed=20261122
venv="${KAIROS_SCHEMATHESIS_VENV:-${CARGO_TARGET_DIR:-target}/schemathesis-venv}"
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis>=4,<5"
fi
"$venv/bin/st" --version

cargo build --quiet
data="$(mktemp -d)"
database_url=""
if [ "$backend" = postgres ]; then
    admin_url="${KAIROS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    database="kairos_schemathesis_$$"
    psql -q "$admin_url" -c "CREATE DATABASE $database"
    database_url="${admin_url%/*}/$database"
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
admin_email="admin@schemathesis.invalid"
password="the fuzzing run's passphrase"
KAIROS_ADDR="127.0.0.1:$port" KAIROS_DATA_DIR="$data" DATABASE_URL="$database_url" \
    KAIROS_ADMIN_EMAIL="$admin_email" KAIROS_ADMIN_PASSWORD="$password" \
    KAIROS_LOGINS_PER_IP=100000000 KAIROS_SIGNUPS_PER_IP=100000000 \
    KAIROS_REFRESHES_PER_IP=100000000 KAIROS_FEED_READS_PER_IP=100000000 \
    RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/debug/kairos" >"$data/server.log" 2>&1 &
server=$!
finish() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$data"
    if [ -n "$database_url" ]; then
        psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
    fi
}
trap finish EXIT
for _ in $(seq 1 100); do
    curl -sf "$base/readyz" >/dev/null && break
    sleep 0.1
done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
login() {
    curl -sf "$base/api/login" -H 'content-type: application/json' \
        -d "{\"email\": \"$1\", \"password\": \"$password\"}"
}
admin="$(login "$admin_email")"
admin_id="$(echo "$admin" | json '["id"]')"
admin_token="$(echo "$admin" | json '["token"]')"
for role in provider customer host; do
    curl -sf "$base/api/user/$admin_id/create" -H "authorization: Bearer $admin_token" \
        -H 'content-type: application/json' \
        -d "{\"email\": \"$role@schemathesis.invalid\", \"password\": \"$password\", \"role\": \"$([ "$role" = customer ] && echo customer || echo provider)\"}" >/dev/null
done
provider="$(login provider@schemathesis.invalid)"
customer="$(login customer@schemathesis.invalid)"
# A published service with sessions, so there is something real to book. It belongs to a
# provider none of the runs signs in as, so no run can withdraw it, and the provider's run
# books it as a customer would.
host="$(login host@schemathesis.invalid)"
host_id="$(echo "$host" | json '["id"]')"
host_token="$(echo "$host" | json '["token"]')"
service_id="$(curl -sf "$base/api/user/$host_id/services/create/publish" \
    -H "authorization: Bearer $host_token" -H 'content-type: application/json' \
    -d '{"name": "Fuzzed yoga", "durationMinutes": 60, "capacity": 50, "timeZone": "UTC"}' | json '["id"]')"
sessions="$(curl -sf "$base/api/user/$host_id/services/$service_id/sessions" \
    -H "authorization: Bearer $host_token" -H 'content-type: application/json' \
    -d '{"startsAt": "2030-01-07T09:00:00Z", "repeat": {"weekdays": ["monday"], "count": 10}}')"
# The run's settings, and the seeded sessions as the dictionary `sessionId` is drawn from.
config="${CARGO_TARGET_DIR:-target}/schemathesis-run.toml"
{
    cat scripts/schemathesis.toml
    echo
    echo '[dictionaries.seeded-sessions]'
    echo "values = $(echo "$sessions" | python3 -c 'import json,sys; print(json.dumps([s["id"] for s in json.load(sys.stdin)]))')"
} >"$config"

export KAIROS_ST_CUSTOMER_ID KAIROS_ST_BASE="$base" SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts
KAIROS_ST_CUSTOMER_ID="$(echo "$customer" | json '["id"]')"
failed=0
for who in customer provider admin; do
    case "$who" in
        customer) session="$customer" ;;
        provider) session="$provider" ;;
        admin) session="$admin" ;;
    esac
    echo "== schemathesis as the $who ($backend) =="
    # Logging out would end the very login the run authenticates with.
    if ! KAIROS_ST_TOKEN="$(echo "$session" | json '["token"]')" \
        KAIROS_ST_USER_ID="$(echo "$session" | json '["id"]')" \
        "$venv/bin/st" --config-file "$config" run "$base/api/openapi.json" \
        --checks all --phases examples,coverage,fuzzing,stateful --seed "$seed" \
        --max-examples "$examples" --generation-database none --no-color \
        --exclude-path /api/logout \
        --report junit --report-junit-path "${CARGO_TARGET_DIR:-target}/schemathesis-$backend-$who.xml"; then
        failed=1
    fi
done
if grep -q "panicked" "$data/server.log"; then
    echo "the server panicked:"; grep -m5 "panicked" "$data/server.log"; failed=1
fi
exit "$failed"

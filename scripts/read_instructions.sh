#!/usr/bin/env bash
# Instructions the server runs per `GET /api/user/{id}/bookings` (SQLite), counted by callgrind:
# unlike requests per second on a shared two-core machine, the count is the same run after run,
# so it tells whether a change to the read path made it cheaper. User space only (the kernel's
# socket work is not counted).
#
#   scripts/read_instructions.sh [SERVER] [BENCH]
#
# SERVER defaults to target/release/kairos, BENCH to target/release/kairos-bench (build the
# workspace with --release first). Needs valgrind. The server listens on 127.0.0.1:18081 with a
# fresh data directory; instrumentation is switched on only for the `read` scenario (16 clients,
# 20 s), so sign-ups and the ceiling run are not counted.
set -euo pipefail

server=$(realpath "${1:-target/release/kairos}")
bench=$(realpath "${2:-target/release/kairos-bench}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export KAIROS_BENCH_ADMIN_EMAIL=admin@bench.invalid KAIROS_BENCH_ADMIN_PASSWORD=bench-admin-password

KAIROS_DATA_DIR="$dir" KAIROS_ADDR=127.0.0.1:18081 \
  KAIROS_ADMIN_EMAIL="$KAIROS_BENCH_ADMIN_EMAIL" KAIROS_ADMIN_PASSWORD="$KAIROS_BENCH_ADMIN_PASSWORD" \
  KAIROS_LOGINS_PER_IP=100000 KAIROS_SIGNUPS_PER_IP=100000 RUST_LOG="warn,kairos=info,sqlx=error" \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out" \
  "$server" >"$dir/server.log" 2>&1 &
valgrind_pid=$!
for _ in $(seq 1 120); do
  curl -sf http://127.0.0.1:18081/healthz >/dev/null && break
  sleep 1
done

"$bench" --url http://127.0.0.1:18081 --scenarios ceiling,read --seconds 20 --clients 16 \
  --customers 16 >"$dir/bench.out" 2>&1 &
bench_pid=$!
# The ceiling's report is printed as the read begins.
until grep -q "== ceiling" "$dir/bench.out" 2>/dev/null; do sleep 0.2; done
callgrind_control -i on "$valgrind_pid" >/dev/null 2>&1
wait "$bench_pid"
callgrind_control -i off "$valgrind_pid" >/dev/null 2>&1
callgrind_control -d "$valgrind_pid" >/dev/null 2>&1
sleep 2
kill "$valgrind_pid"
wait "$valgrind_pid" 2>/dev/null || true

reads=$(grep -A3 "== read" "$dir/bench.out" | awk '/^requests/ {print $2}')
total=$(for out in "$dir"/callgrind.out*; do callgrind_annotate "$out" 2>/dev/null; done |
  awk '/PROGRAM TOTALS/ {gsub(",", "", $1); sum += $1} END {print sum}')
echo "reads: $reads; instructions: $total; per read: $((total / reads))"

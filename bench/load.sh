#!/usr/bin/env bash
# Load benchmark (issue 12): the release `allmende` binary under mixed load
# with 100,000 items present, on SQLite and on PostgreSQL, and its inbox
# beside the store alone. See crates/allmende-server/examples/load_bench.rs
# for what each phase does. Prints a Markdown table for
# docs/performance.md. A benchmark, not a test: it is not part of CI.
#
#   bench/load.sh                      # 100,000 items, 20 s of mixed load
#   ITEMS=20000 SECONDS_PER_RUN=10 bench/load.sh
#
# PostgreSQL: ALLMENDE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test); the benchmark creates and drops
# its own database there.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo builds (a shared build directory, if one is set).
target_dir=${CARGO_TARGET_DIR:-target}
items=${ITEMS:-100000}
seconds=${SECONDS_PER_RUN:-20}
ulimit -n 8192 2>/dev/null || true

cargo build --release --quiet -p allmende-server --bin allmende --example load_bench

echo "Machine: $(nproc) cores, $(date -u +%Y-%m-%d); ${items} items present; ${seconds} s of mixed load"
echo
echo "| engine | route | requests/s | p50 | p99 | errors |"
echo "|---|---|---:|---:|---:|---|"
for engine in sqlite postgres; do
    "$target_dir"/release/examples/load_bench "$target_dir"/release/allmende "$engine" "$items" "$seconds"
done

#!/usr/bin/env bash
# Durable-outbox benchmarks (issues 4 and 12), all in one run on this
# machine:
#   1. the pure signing rate on one core (the baseline): the whole signing
#      path of one delivery, `crates/allmende-federation/examples/signing.rs`;
#   2. `crates/allmende-server/examples/outbox_bench.rs` against the release
#      `allmende` binary, on SQLite and on PostgreSQL: delivery throughput
#      to each number of inboxes in INBOXES (default "100 1000"; each inbox
#      on its own loopback address), resident memory idle and at peak, and
#      the recovery after SIGKILL in the middle of a fan-out to the largest.
# `bench/fanout.sh` runs it with 11,000 inboxes. Prints a Markdown table
# for docs/performance.md. PostgreSQL: ALLMENDE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo builds (a shared build directory, if one is set).
target_dir=${CARGO_TARGET_DIR:-target}
seconds=${SECONDS_PER_RUN:-5}
read -r -a sizes <<<"${INBOXES:-100 1000}"
largest=$(printf '%s\n' "${sizes[@]}" | sort -n | tail -1)
# One listening socket per inbox in the benchmark process, plus connections.
ulimit -n 20000 2>/dev/null || ulimit -n 8192 2>/dev/null || true

cargo build --release --quiet -p allmende-server --bin allmende --example outbox_bench
cargo build --release --quiet -p allmende-federation --example signing
mapfile -t signing < <("$target_dir"/release/examples/signing "$seconds")
sign=$(echo "${signing[1]}" | awk '{print $2}')
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for engine in sqlite postgres; do
    "$target_dir"/release/examples/outbox_bench "$target_dir"/release/allmende "$engine" "${sizes[@]}" >>"$results"
done

get() { awk -v k="$1 $2" '$1 " " $2 == k {print $3}' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "Machine: $(nproc) cores, $(date -u +%Y-%m-%d); inboxes on distinct loopback addresses"
echo
echo "| measurement | SQLite | PostgreSQL |"
echo "|---|---:|---:|"
echo "| pure signing rate, one core (baseline) | ${sign}/s | ${sign}/s |"
for n in "${sizes[@]}"; do
    s=$(get sqlite "fanout_${n}_deliveries_per_s"); p=$(get postgres "fanout_${n}_deliveries_per_s")
    echo "| deliveries/s to ${n} inboxes, from the committed outbox (ratio to signing) | ${s} ($(ratio "$s" "$sign")) | ${p} ($(ratio "$p" "$sign")) |"
    s=$(get sqlite "fanout_${n}_with_api_request_per_s"); p=$(get postgres "fanout_${n}_with_api_request_per_s")
    echo "| the same, counting the API request that publishes (ratio) | ${s} ($(ratio "$s" "$sign")) | ${p} ($(ratio "$p" "$sign")) |"
    echo "| ${n} inboxes: CPU of the node per fan-out (of the inboxes) | $(get sqlite "fanout_${n}_node_cpu_ms") ms ($(get sqlite "fanout_${n}_inboxes_cpu_ms") ms) | $(get postgres "fanout_${n}_node_cpu_ms") ms ($(get postgres "fanout_${n}_inboxes_cpu_ms") ms) |"
    echo "| ${n} inboxes: outbox empty after | $(get sqlite "fanout_${n}_queue_empty_ms") ms | $(get postgres "fanout_${n}_queue_empty_ms") ms |"
done
n=$largest
echo "| resident memory idle after start-up | $(mb "$(get sqlite "fanout_${n}_idle_rss_kb")") MB | $(mb "$(get postgres "fanout_${n}_idle_rss_kb")") MB |"
echo "| peak resident memory, ${n}-inbox fan-out | $(mb "$(get sqlite "fanout_${n}_peak_rss_kb")") MB | $(mb "$(get postgres "fanout_${n}_peak_rss_kb")") MB |"
echo "| recovery: restart to queue drained after SIGKILL mid-fan-out (${n}; lease 2 s) | $(get sqlite "recovery_${n}_ms") ms | $(get postgres "recovery_${n}_ms") ms |"
echo "| deliveries repeated after that SIGKILL | $(get sqlite "recovery_${n}_repeated_deliveries") | $(get postgres "recovery_${n}_repeated_deliveries") |"

#!/usr/bin/env bash
# Durable-outbox benchmarks (issue 4), all in one run on this machine:
#   1. the pure signing rate on one core (the baseline): the whole signing
#      path of one delivery, `crates/allmende-federation/examples/signing.rs`;
#   2. `crates/allmende-server/examples/outbox_bench.rs` against the release
#      `allmende` binary, on SQLite and on PostgreSQL: delivery throughput
#      to 100 and 1,000 inboxes, resident memory idle and at peak, and the
#      recovery after SIGKILL in the middle of a 1,000-delivery fan-out.
# Prints a Markdown table for docs/performance.md. PostgreSQL:
# ALLMENDE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo builds (a shared build directory, if one is set).
target_dir=${CARGO_TARGET_DIR:-target}
seconds=${SECONDS_PER_RUN:-5}
ulimit -n 8192 2>/dev/null || true

cargo build --release --quiet -p allmende-server --bin allmende --example outbox_bench
cargo build --release --quiet -p allmende-federation --example signing
mapfile -t signing < <("$target_dir"/release/examples/signing "$seconds")
sign=$(echo "${signing[1]}" | awk '{print $2}')
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for engine in sqlite postgres; do
    "$target_dir"/release/examples/outbox_bench "$target_dir"/release/allmende "$engine" 100 1000 >>"$results"
done

get() { awk -v k="$1 $2" '$1 " " $2 == k {print $3}' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "Machine: $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| measurement | SQLite | PostgreSQL |"
echo "|---|---:|---:|"
echo "| pure signing rate, one core (baseline) | ${sign}/s | ${sign}/s |"
for n in 100 1000; do
    s=$(get sqlite "fanout_${n}_deliveries_per_s"); p=$(get postgres "fanout_${n}_deliveries_per_s")
    echo "| deliveries/s to ${n} inboxes, from the committed outbox (ratio to signing) | ${s} ($(ratio "$s" "$sign")) | ${p} ($(ratio "$p" "$sign")) |"
    s=$(get sqlite "fanout_${n}_with_api_request_per_s"); p=$(get postgres "fanout_${n}_with_api_request_per_s")
    echo "| the same, counting the API request that publishes (ratio) | ${s} ($(ratio "$s" "$sign")) | ${p} ($(ratio "$p" "$sign")) |"
    echo "| ${n} inboxes: CPU of the node (of the inboxes) | $(get sqlite "fanout_${n}_node_cpu_ms") ms ($(get sqlite "fanout_${n}_inboxes_cpu_ms") ms) | $(get postgres "fanout_${n}_node_cpu_ms") ms ($(get postgres "fanout_${n}_inboxes_cpu_ms") ms) |"
    echo "| ${n} inboxes: outbox empty after | $(get sqlite "fanout_${n}_queue_empty_ms") ms | $(get postgres "fanout_${n}_queue_empty_ms") ms |"
done
echo "| resident memory idle after start-up | $(mb "$(get sqlite fanout_1000_idle_rss_kb)") MB | $(mb "$(get postgres fanout_1000_idle_rss_kb)") MB |"
echo "| peak resident memory, 1,000-inbox fan-out | $(mb "$(get sqlite fanout_1000_peak_rss_kb)") MB | $(mb "$(get postgres fanout_1000_peak_rss_kb)") MB |"
echo "| recovery: restart to queue drained after SIGKILL mid-fan-out (1,000; lease 2 s) | $(get sqlite recovery_1000_ms) ms | $(get postgres recovery_1000_ms) ms |"
echo "| deliveries repeated after that SIGKILL | $(get sqlite recovery_1000_repeated_deliveries) | $(get postgres recovery_1000_repeated_deliveries) |"

#!/usr/bin/env bash
# National-scale fan-out (issue 12): one item to 11,000 follower inboxes
# (about the number of German municipalities), each on its own loopback
# address (127.1.x.y, one port: 11,000 distinct hosts), from the release
# `allmende` binary, on SQLite and on PostgreSQL. Beside it, in the same
# run, the pure signing rate on one core (the baseline). Prints a Markdown
# table for docs/performance.md. A benchmark, not a test: not part of CI.
#
#   bench/fanout.sh            # 11,000 inboxes
#   INBOXES=2000 bench/fanout.sh
#
# PostgreSQL: ALLMENDE_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo builds (a shared build directory, if one is set).
target_dir=${CARGO_TARGET_DIR:-target}
inboxes=${INBOXES:-11000}
seconds=${SECONDS_PER_RUN:-5}
# 11,000 listening sockets in the benchmark process, plus connections.
ulimit -n 20000 2>/dev/null || ulimit -n 16384 2>/dev/null || true

cargo build --release --quiet -p allmende-server --bin allmende --example outbox_bench
cargo build --release --quiet -p allmende-federation --example signing
results=$(mktemp)
trap 'rm -f "$results"' EXIT
mapfile -t signing < <("$target_dir"/release/examples/signing "$seconds")
sign=$(echo "${signing[1]}" | awk '{print $2}')
for engine in sqlite postgres; do
    "$target_dir"/release/examples/outbox_bench "$target_dir"/release/allmende "$engine" "$inboxes" >>"$results"
done

get() { awk -v k="$1 $2" '$1 " " $2 == k {print $3}' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
n=$inboxes

echo "Machine: $(nproc) cores, $(date -u +%Y-%m-%d); ${n} inboxes on ${n} loopback addresses"
echo
echo "| measurement | SQLite | PostgreSQL |"
echo "|---|---:|---:|"
echo "| pure signing rate, one core (baseline) | ${sign}/s | ${sign}/s |"
s=$(get sqlite "fanout_${n}_deliveries_per_s"); p=$(get postgres "fanout_${n}_deliveries_per_s")
echo "| deliveries/s to ${n} inboxes, from the committed outbox (ratio to signing) | ${s} ($(ratio "$s" "$sign")) | ${p} ($(ratio "$p" "$sign")) |"
s=$(get sqlite "fanout_${n}_with_api_request_per_s"); p=$(get postgres "fanout_${n}_with_api_request_per_s")
echo "| the same, counting the API request that publishes (ratio) | ${s} ($(ratio "$s" "$sign")) | ${p} ($(ratio "$p" "$sign")) |"
echo "| CPU of the node per fan-out (of the inboxes) | $(get sqlite "fanout_${n}_node_cpu_ms") ms ($(get sqlite "fanout_${n}_inboxes_cpu_ms") ms) | $(get postgres "fanout_${n}_node_cpu_ms") ms ($(get postgres "fanout_${n}_inboxes_cpu_ms") ms) |"
echo "| outbox empty after | $(get sqlite "fanout_${n}_queue_empty_ms") ms | $(get postgres "fanout_${n}_queue_empty_ms") ms |"
echo "| resident memory idle after start-up | $(mb "$(get sqlite "fanout_${n}_idle_rss_kb")") MB | $(mb "$(get postgres "fanout_${n}_idle_rss_kb")") MB |"
echo "| peak resident memory | $(mb "$(get sqlite "fanout_${n}_peak_rss_kb")") MB | $(mb "$(get postgres "fanout_${n}_peak_rss_kb")") MB |"
echo "| recovery: restart to queue drained after SIGKILL mid-fan-out (lease 2 s) | $(get sqlite "recovery_${n}_ms") ms | $(get postgres "recovery_${n}_ms") ms |"
echo "| deliveries repeated after that SIGKILL | $(get sqlite "recovery_${n}_repeated_deliveries") | $(get postgres "recovery_${n}_repeated_deliveries") |"

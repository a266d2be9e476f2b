#!/usr/bin/env bash
# Propagation through groups (issue 13): five nodes in one process on
# loopback (`crates/allmende-server/examples/group_bench.rs`); a member
# publishes ITEMS projects (default 200) to its group, one after the
# other; each is timed until it is stored on a node that follows the
# member directly (the baseline), one that follows the group (one hop) and
# one that follows a network that follows the group (two hops). Prints a
# Markdown table for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
items=${ITEMS:-200}
cargo build --release --quiet -p allmende-server --example group_bench
results=$(RUST_LOG=error "$target_dir"/release/examples/group_bench "$items")
get() { echo "$results" | awk -v k="$1" '$1 == k {print $2}'; }
echo "Machine: $(nproc) cores, $(date -u +%Y-%m-%d); $(get items) items, SQLite, nodes on loopback"
echo
echo "| path | median | p95 |"
echo "|---|---|---|"
echo "| direct follow (baseline) | $(get direct_median) ms | $(get direct_p95) ms |"
echo "| one hop: member → group → follower | $(get one_hop_median) ms | $(get one_hop_p95) ms |"
echo "| two hops: member → group → network → follower | $(get two_hops_median) ms | $(get two_hops_p95) ms |"
echo
echo "Two hops / one hop (median): $(get ratio_two_to_one); one hop / direct: $(get ratio_one_to_direct)"

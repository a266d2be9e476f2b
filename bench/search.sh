#!/usr/bin/env bash
# Search at scale (issue 14): `crates/allmende-server/examples/search_bench.rs`
# fills a fresh database per engine with SCALE × (250,000 projects, 50,000
# questions, 20,000 solutions) of generated German text, then times the
# store's search (facet counts and one page) for five query types, the HTML
# search page, and a key read as the baseline of the same run. Prints a
# Markdown table for docs/performance.md.
#
#   bench/search.sh [SCALE]        (default 1; needs PostgreSQL as in the README)
#   ENGINES=sqlite bench/search.sh 0.25   (one engine, a quarter of the data)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
scale=${1:-1}
cargo build --release --quiet -p allmende-server --example search_bench
declare -A results
for engine in ${ENGINES:-sqlite postgres}; do
  results[$engine]=$(RUST_LOG=error "$target_dir"/release/examples/search_bench "$engine" "$scale")
done
get() { echo "${results[$1]:-}" | awk -v k="$2" '$1 == k {print $2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else printf "–" }'; }
echo "Machine: $(nproc) cores, $(date -u +%Y-%m-%d); $(get sqlite items) items per engine (scale $scale); target: p95 < 50 ms on SQLite"
echo
echo "| query | SQLite p50 | SQLite p95 | PostgreSQL p50 | PostgreSQL p95 |"
echo "|---|---|---|---|---|"
for q in one_word two_words prefix common_word three_facets html_page baseline_read; do
  echo "| $q | $(get sqlite ${q}_p50) ms | $(get sqlite ${q}_p95) ms | $(get postgres ${q}_p50) ms | $(get postgres ${q}_p95) ms |"
done
echo
echo "Hits of the common word: $(get sqlite common_word_hits) (SQLite), $(get postgres common_word_hits) (PostgreSQL)."
echo "Indexing: $(get sqlite index_rate) items/s (SQLite), $(get postgres index_rate) items/s (PostgreSQL), each item with its index row in one transaction."
echo "One word, p95 / key read p95: SQLite $(ratio "$(get sqlite one_word_p95)" "$(get sqlite baseline_read_p95)"), PostgreSQL $(ratio "$(get postgres one_word_p95)" "$(get postgres baseline_read_p95)")."

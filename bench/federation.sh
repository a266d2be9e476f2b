#!/usr/bin/env bash
# Federation benchmarks (issue 3), all in one run on this machine:
#   1. signatures per second on one core: OpenSSL's `speed rsa2048` beside
#      Allmende's signing path (aws-lc-rs);
#   2. fan-out of one item to 10, 100 and 1,000 follower inboxes on loopback.
# Prints a Markdown table for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where cargo builds (a shared build directory, if one is set).
target_dir=${CARGO_TARGET_DIR:-target}
seconds=${SECONDS_PER_RUN:-5}
ulimit -n 8192 2>/dev/null || true

cargo build --release --quiet -p allmende-federation --examples
openssl_rate=$(openssl speed -seconds "$seconds" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
mapfile -t ours < <("$target_dir"/release/examples/signing "$seconds")
mapfile -t fanout < <("$target_dir"/release/examples/fanout 10 100 1000)

value() { echo "$1" | awk '{print $2}'; }
bare=$(value "${ours[0]}")
request=$(value "${ours[1]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "Machine: $(nproc) cores, $(openssl version | cut -d' ' -f1-2), $(date -u +%Y-%m-%d)"
echo
echo "| measurement | per second | ratio |"
echo "|---|---:|---:|"
echo "| OpenSSL \`speed rsa2048\` sign (baseline) | ${openssl_rate} | 1.00 |"
echo "| Allmende RSA-2048 signature (aws-lc-rs) | ${bare} | $(ratio "$bare" "$openssl_rate") of OpenSSL |"
echo "| Allmende whole request signing (Date, Digest, signing string, signature) | ${request} | $(ratio "$request" "$openssl_rate") of OpenSSL |"
for line in "${fanout[@]}"; do
    n=$(echo "$line" | sed -E 's/fanout_([0-9]+)_.*/\1/')
    rate=$(value "$line")
    echo "| fan-out to ${n} inboxes, deliveries | ${rate} | $(ratio "$rate" "$request") of the signing path |"
done
